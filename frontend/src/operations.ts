// Compiled by `make codegen` (tsc --noEmit) against the generated types: the build fails if
// the operations stop matching the schema or if Date/DateTime stop being strings.
import type {
  MeQuery,
  MyDocumentsQuery,
  MyDocumentsQueryVariables,
  StepStatus,
  WorkflowStatus,
  WorkflowStatusChangedSubscription,
} from "../generated/graphql";

export function email(result: MeQuery): string | undefined {
  return result.me?.email;
}

export function dueDays(result: MyDocumentsQuery): Array<string | null | undefined> {
  return result.documents.edges.map((edge) => edge.node.dueOn);
}

export function createdAt(result: MyDocumentsQuery): string[] {
  return result.documents.edges.map((edge) => edge.node.createdAt);
}

export const firstPage: MyDocumentsQueryVariables = { first: 10 };

type WorkflowEvent = WorkflowStatusChangedSubscription["workflowStatusChanged"];

type Status = WorkflowStatus | StepStatus | null | undefined;

// The typed statuses: a workflow's and a step's are different enums, told apart by `kind`.
export function moved(event: WorkflowEvent): [from: Status, to: Status] {
  switch (event.kind) {
    case "WORKFLOW_STARTED":
      return [null, event.workflowStatus];
    case "WORKFLOW_STATUS_CHANGED":
      return [event.previousWorkflowStatus, event.workflowStatus];
    case "STEP_STATUS_CHANGED":
      return [event.previousStepStatus, event.step?.status];
  }
}

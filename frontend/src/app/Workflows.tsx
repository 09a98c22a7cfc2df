import type { WorkflowCardFragment } from "../../generated/graphql";
import { dueText } from "./dates";
import { STEP_STATUS, WORKFLOW_STATUS } from "./labels";

export function WorkflowCard({ workflow, showSubject }: { workflow: WorkflowCardFragment; showSubject: boolean }) {
  const steps = workflow.steps.edges.map((e) => e.node);
  const done = steps.filter((s) => s.status === "DONE").length;
  return (
    <article className="card workflow" data-workflow-id={workflow.id} data-status={workflow.status}>
      <h3>
        {workflow.title}
        {showSubject && workflow.subject ? <span className="muted"> for {workflow.subject.fullName}</span> : null}
      </h3>
      <p>
        <span className={`badge status-${workflow.status.toLowerCase()}`}>{WORKFLOW_STATUS[workflow.status]}</span>{" "}
        <span className="muted">
          {dueText(workflow.dueOn)}
          {workflow.overdue ? ", overdue" : ""}
          {steps.length > 0 ? `, ${done} of ${steps.length} steps done` : ""}
        </span>
      </p>
      {steps.length > 0 ? (
        <ol className="steps">
          {steps.map((step) => (
            <li key={step.id} data-step-status={step.status}>
              <span>{step.title}</span>{" "}
              <span className={`badge step-${step.status.toLowerCase()}`}>{STEP_STATUS[step.status]}</span>
            </li>
          ))}
        </ol>
      ) : null}
    </article>
  );
}

// What each status means to the person looking at it.
import type { DocumentStatus, StepStatus, WorkflowStatus } from "../../generated/graphql";

export const DOCUMENT_STATUS: Record<DocumentStatus, string> = {
  REQUESTED: "Not handed in yet",
  UPLOADED: "Uploaded, not yet submitted",
  IN_REVIEW: "Waiting for HR's review",
  APPROVED: "Approved",
  REJECTED: "Rejected",
  EXPIRED: "Expired: a renewal is requested",
};

export const STEP_STATUS: Record<StepStatus, string> = {
  WAITING: "Waiting for an earlier step",
  PENDING: "To do",
  SUBMITTED: "In review",
  DONE: "Done",
  REJECTED: "Rejected",
};

export const WORKFLOW_STATUS: Record<WorkflowStatus, string> = {
  NOT_STARTED: "Not started",
  IN_PROGRESS: "In progress",
  COMPLETED: "Completed",
  CANCELLED: "Cancelled",
  REJECTED: "Rejected",
};

// HR: start an onboarding, the review queue (live), approve or reject with a reason, and the
// company's workflows moving live. No one reviews her own document (the API enforces it).
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  AppApproveDocument,
  AppRejectDocument,
  AppStartWorkflowDocument,
  CompanyWorkflowsDocument,
  PeopleDocument,
  ReviewQueueDocument,
  type ReviewQueueQuery,
  type WorkflowTemplateCode,
} from "../../generated/graphql";
import { addDays, dueText, today } from "./dates";
import { combinedErrorSentence, typedErrorSentence } from "./errors";
import { DOCUMENT_STATUS } from "./labels";
import { type Live, useRefetchOnLive } from "./useRefetchOnLive";
import { WorkflowCard } from "./Workflows";

type QueueItem = ReviewQueueQuery["documentsAwaitingReview"]["edges"][number]["node"];

export function Hr({ live, viewerId }: { live: Live; viewerId: string }) {
  const [queue, reexecuteQueue] = useQuery({ query: ReviewQueueDocument });
  const [workflows, reexecuteWorkflows] = useQuery({ query: CompanyWorkflowsDocument });
  const refetch = useCallback(() => {
    reexecuteQueue({ requestPolicy: "network-only" });
    reexecuteWorkflows({ requestPolicy: "network-only" });
  }, [reexecuteQueue, reexecuteWorkflows]);
  useRefetchOnLive(live, refetch);
  const items = queue.data?.documentsAwaitingReview.edges.map((e) => e.node) ?? [];
  const list = workflows.data?.workflows.edges.map((e) => e.node) ?? [];
  return (
    <>
      <StartOnboarding onStarted={refetch} />
      <section aria-labelledby="queue-heading">
        <h2 id="queue-heading">
          Review queue <span className="count">({queue.data?.documentsAwaitingReview.totalCount ?? "…"})</span>
        </h2>
        {queue.error ? (
          <p className="error" role="alert">
            {combinedErrorSentence(queue.error)}
          </p>
        ) : null}
        {queue.data && items.length === 0 ? <p className="muted">Nothing waits for a review.</p> : null}
        <ul className="cards" aria-label="Documents waiting for a review">
          {items.map((item) => (
            <li key={item.id}>
              <Review item={item} viewerId={viewerId} onReviewed={refetch} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="workflows-heading">
        <h2 id="workflows-heading">The company's workflows</h2>
        {workflows.error ? (
          <p className="error" role="alert">
            {combinedErrorSentence(workflows.error)}
          </p>
        ) : null}
        <ul className="cards">
          {list.map((workflow) => (
            <li key={workflow.id}>
              <WorkflowCard workflow={workflow} showSubject />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function StartOnboarding({ onStarted }: { onStarted: () => void }) {
  const id = useId();
  const [people] = useQuery({ query: PeopleDocument });
  const [person, setPerson] = useState("");
  const [template, setTemplate] = useState<WorkflowTemplateCode>("EMPLOYEE_ONBOARDING");
  const [due, setDue] = useState(() => addDays(today(), 30));
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [{ fetching }, start] = useMutation(AppStartWorkflowDocument);
  const everyone = people.data?.users.edges.map((e) => e.node) ?? [];

  useEffect(() => {
    if (!person && everyone.length > 0) setPerson(everyone[0].id);
  }, [person, everyone]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setDone(null);
    if (!person) {
      setError("Choose the person first.");
      return;
    }
    const answer = await start({ input: { template, subjectUserId: person, dueDate: due } });
    const result = answer.data?.startWorkflow;
    if (answer.error || !result) {
      setError(answer.error ? combinedErrorSentence(answer.error) : "Nothing was started: try again.");
    } else if (result.__typename !== "WorkflowPayload") {
      setError("code" in result ? typedErrorSentence(result) : "Nothing was started: try again.");
    } else {
      const who = everyone.find((p) => p.id === person)?.fullName ?? "the person";
      setDone(`Started ${result.workflow.title} for ${who}.`);
      onStarted();
    }
  }

  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Start an onboarding</h2>
      <form className="start" onSubmit={(e) => void onSubmit(e)} aria-describedby={error ? `${id}-error` : undefined}>
        <div className="field">
          <label htmlFor={`${id}-person`}>Person</label>
          <select id={`${id}-person`} value={person} onChange={(e) => setPerson(e.target.value)}>
            {everyone.map((p) => (
              <option key={p.id} value={p.id}>
                {p.fullName} ({p.email})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-template`}>Workflow</label>
          <select
            id={`${id}-template`}
            value={template}
            onChange={(e) => setTemplate(e.target.value as WorkflowTemplateCode)}
          >
            <option value="EMPLOYEE_ONBOARDING">Employee onboarding</option>
            <option value="OFFBOARDING">Offboarding</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-due`}>Due date</label>
          <input id={`${id}-due`} type="date" value={due} onChange={(e) => setDue(e.target.value)} required />
        </div>
        <button type="submit" disabled={fetching}>
          Start
        </button>
      </form>
      {people.error ? (
        <p className="error" role="alert">
          {combinedErrorSentence(people.error)}
        </p>
      ) : null}
      {error ? (
        <p className="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
      {done ? <p role="status">{done}</p> : null}
    </section>
  );
}

function Review({ item, viewerId, onReviewed }: { item: QueueItem; viewerId: string; onReviewed: () => void }) {
  const id = useId();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [{ fetching: approving }, approve] = useMutation(AppApproveDocument);
  const [{ fetching: rejecting }, reject] = useMutation(AppRejectDocument);
  const canReview = item.availableTransitions.includes("APPROVE");
  const file = item.versions[0];
  const busy = approving || rejecting;

  async function run(kind: "approve" | "reject") {
    setError(null);
    const answer =
      kind === "approve"
        ? await approve({ id: item.id, expectedVersion: item.version })
        : await reject({ id: item.id, reason, expectedVersion: item.version });
    const result = answer.data ? ("approveDocument" in answer.data ? answer.data.approveDocument : answer.data.rejectDocument) : null;
    if (answer.error || !result) {
      setError(answer.error ? combinedErrorSentence(answer.error) : "Nothing changed: try again.");
    } else if (result.__typename !== "DocumentPayload") {
      setError("code" in result ? typedErrorSentence(result) : "Nothing changed: try again.");
    }
    onReviewed();
  }

  return (
    <article className="card" data-document-id={item.id} data-status={item.status} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        {item.title} <span className="muted">from {item.owner?.fullName ?? "someone"}</span>
      </h3>
      <p>
        <span className={`badge doc-${item.status.toLowerCase()}`}>{DOCUMENT_STATUS[item.status]}</span>{" "}
        <span className="muted">{dueText(item.dueOn)}</span>
      </p>
      {item.downloadUrl && file ? (
        <p>
          <a href={item.downloadUrl} target="_blank" rel="noopener noreferrer">
            Open {file.fileName}
          </a>{" "}
          <span className="muted">
            ({Math.max(1, Math.round(file.sizeBytes / 1024))} KB, file {file.version})
          </span>
        </p>
      ) : null}
      {item.status === "UPLOADED" ? (
        <p className="muted">Waiting for {item.owner?.fullName ?? "its owner"} to submit it.</p>
      ) : null}
      {item.status === "IN_REVIEW" && !canReview ? (
        <p className="muted">
          {item.owner?.id === viewerId
            ? "This is your own document: another HR person must review it (no one reviews her own)."
            : "You may not review this document."}
        </p>
      ) : null}
      {canReview ? (
        <div className="review">
          <button type="button" onClick={() => void run("approve")} disabled={busy}>
            Approve {item.title}
          </button>
          <div className="field">
            <label htmlFor={`${id}-reason`}>Reason for rejecting {item.title}</label>
            <input
              id={`${id}-reason`}
              type="text"
              value={reason}
              maxLength={2000}
              onChange={(e) => setReason(e.target.value)}
              aria-describedby={error ? `${id}-error` : undefined}
            />
          </div>
          <button type="button" className="danger" onClick={() => void run("reject")} disabled={busy}>
            Reject {item.title}
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </article>
  );
}

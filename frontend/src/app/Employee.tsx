// An employee: what she must hand in and by when, the upload (ticket, POST to the store with
// progress, confirm, submit), the reason of a rejection, and her onboarding moving live.
import { useCallback, useId, useState } from "react";
import { useMutation, useQuery } from "urql";
import {
  AppConfirmUploadDocument,
  AppRequestUploadDocument,
  AppSubmitDocument,
  EmployeeHomeDocument,
  type HandInFragment,
} from "../../generated/graphql";
import { dueText } from "./dates";
import { combinedErrorSentence, sentence, typedErrorSentence } from "./errors";
import { DOCUMENT_STATUS } from "./labels";
import { contentTypeOf, postFile } from "./upload";
import { type Live, useRefetchOnLive } from "./useRefetchOnLive";
import { WorkflowCard } from "./Workflows";

export function Employee({ live }: { live: Live }) {
  const [home, reexecute] = useQuery({ query: EmployeeHomeDocument });
  const refetch = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  useRefetchOnLive(live, refetch);
  const me = home.data?.me;
  const documents = me?.documents.edges.map((e) => e.node) ?? [];
  const open = documents.filter((d) => d.status !== "APPROVED");
  const approved = documents.filter((d) => d.status === "APPROVED");
  const workflows = me?.workflows.edges.map((e) => e.node) ?? [];
  return (
    <>
      {home.error ? (
        <p className="error" role="alert">
          {combinedErrorSentence(home.error)}
        </p>
      ) : null}
      <section aria-labelledby="handin-heading">
        <h2 id="handin-heading">What you must hand in</h2>
        {me && open.length === 0 ? <p>Nothing: everything you handed in is approved.</p> : null}
        <ul className="cards">
          {open.map((document) => (
            <li key={document.id}>
              <HandIn document={document} onChanged={refetch} />
            </li>
          ))}
        </ul>
        {approved.length > 0 ? (
          <details>
            <summary>Approved ({approved.length})</summary>
            <ul>
              {approved.map((d) => (
                <li key={d.id}>{d.title}</li>
              ))}
            </ul>
          </details>
        ) : null}
      </section>
      <section aria-labelledby="onboarding-heading">
        <h2 id="onboarding-heading">Your onboarding and other workflows</h2>
        {me && workflows.length === 0 ? <p className="muted">No workflow is about you yet.</p> : null}
        <ul className="cards">
          {workflows.map((workflow) => (
            <li key={workflow.id}>
              <WorkflowCard workflow={workflow} showSubject={false} />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

type Phase = { step: "idle" } | { step: "busy"; what: string; progress?: number };

function HandIn({ document, onChanged }: { document: HandInFragment; onChanged: () => void }) {
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ step: "idle" });
  const [error, setError] = useState<string | null>(null);
  const [, requestUpload] = useMutation(AppRequestUploadDocument);
  const [, confirmUpload] = useMutation(AppConfirmUploadDocument);
  const [, submit] = useMutation(AppSubmitDocument);
  const canUpload = document.availableTransitions.includes("REQUEST_UPLOAD");
  const canSubmit = document.availableTransitions.includes("SUBMIT");

  async function submitVersion(version: number): Promise<boolean> {
    setPhase({ step: "busy", what: "Submitting for review…" });
    const submitted = await submit({ id: document.id, expectedVersion: version });
    const result = submitted.data?.submitDocumentForReview;
    if (submitted.error || !result) throw new Error(submitted.error ? combinedErrorSentence(submitted.error) : undefined);
    if (result.__typename !== "DocumentPayload") throw new Error("code" in result ? typedErrorSentence(result) : undefined);
    return true;
  }

  async function upload() {
    if (!file) {
      setError("Choose a file first.");
      return;
    }
    setError(null);
    try {
      setPhase({ step: "busy", what: "Asking for an upload link…" });
      const ticketed = await requestUpload({
        input: { documentId: document.id, fileName: file.name, contentType: contentTypeOf(file), sizeBytes: file.size },
      });
      const ticket = ticketed.data?.requestDocumentUpload;
      if (ticketed.error || !ticket) throw new Error(ticketed.error ? combinedErrorSentence(ticketed.error) : undefined);
      if (ticket.__typename !== "RequestDocumentUploadPayload") {
        throw new Error("code" in ticket ? typedErrorSentence(ticket) : undefined);
      }
      setPhase({ step: "busy", what: "Uploading", progress: 0 });
      await postFile(ticket.upload, file, (fraction) => setPhase({ step: "busy", what: "Uploading", progress: fraction }));
      setPhase({ step: "busy", what: "Checking the file…" });
      const confirmed = await confirmUpload({ id: document.id });
      const result = confirmed.data?.confirmDocumentUpload;
      if (confirmed.error || !result) throw new Error(confirmed.error ? combinedErrorSentence(confirmed.error) : undefined);
      if (result.__typename !== "DocumentPayload") throw new Error("code" in result ? typedErrorSentence(result) : undefined);
      await submitVersion(result.document.version);
      setFile(null);
      setPhase({ step: "idle" });
      onChanged();
    } catch (e) {
      setError(sentence(e instanceof Error ? e.message : ""));
      setPhase({ step: "idle" });
      onChanged();
    }
  }

  async function submitOnly() {
    setError(null);
    try {
      await submitVersion(document.version);
      onChanged();
    } catch (e) {
      setError(sentence(e instanceof Error ? e.message : ""));
      onChanged();
    }
    setPhase({ step: "idle" });
  }

  const busy = phase.step === "busy";
  return (
    <article className="card" data-document-id={document.id} data-status={document.status} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{document.title}</h3>
      <p>
        <span className={`badge doc-${document.status.toLowerCase()}`}>{DOCUMENT_STATUS[document.status]}</span>{" "}
        <span className="muted">{dueText(document.dueOn)}</span>
      </p>
      {document.status === "REJECTED" && document.rejectionReason ? (
        <p className="reason">
          <strong>HR's reason:</strong> <span className="rejection-reason">{document.rejectionReason}</span> Upload a new file.
        </p>
      ) : null}
      {canUpload ? (
        <div className="upload">
          <label htmlFor={`${id}-file`}>
            {document.fileVersion > 0 ? "New file" : "File"} for {document.title}
          </label>
          <input
            id={`${id}-file`}
            type="file"
            accept={document.kind === "CONTRACT" || document.kind === "TAX_FORM" ? "application/pdf,.pdf" : "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"}
            disabled={busy}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setError(null);
            }}
            aria-describedby={error ? `${id}-error` : undefined}
          />
          <button type="button" onClick={() => void upload()} disabled={busy}>
            Upload and submit {document.title}
          </button>
        </div>
      ) : null}
      {!canUpload && canSubmit ? (
        <button type="button" onClick={() => void submitOnly()} disabled={busy}>
          Submit {document.title} for review
        </button>
      ) : null}
      {phase.step === "busy" ? (
        <div className="progress" role="status">
          {phase.progress !== undefined ? (
            <>
              <label htmlFor={`${id}-progress`}>Uploading {file?.name}: {Math.round(phase.progress * 100)}%</label>
              <progress id={`${id}-progress`} max={100} value={Math.round(phase.progress * 100)} />
            </>
          ) : (
            <span>{phase.what}</span>
          )}
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

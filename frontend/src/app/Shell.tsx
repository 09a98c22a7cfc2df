// Signed in: the API client, who I am, the live events, then the view for my role.
import { useEffect, useMemo, useState } from "react";
import { Provider, useQuery, useSubscription } from "urql";
import {
  AppWorkflowEventsDocument,
  ViewerDocument,
  type AppWorkflowEventsSubscription,
} from "../../generated/graphql";
import { Bell } from "./Bell";
import { makeClient, type Connection } from "./client";
import { Employee } from "./Employee";
import { combinedErrorSentence, isSignedOut } from "./errors";
import { Hr } from "./Hr";
import { Inbox } from "./Inbox";
import { STEP_STATUS, WORKFLOW_STATUS } from "./labels";
import type { Live, LiveEvent } from "./useRefetchOnLive";

export function Shell({ token, onSignOut }: { token: string; onSignOut: (why?: string) => void }) {
  const [connection, setConnection] = useState<Connection>("connecting");
  const [reconnects, setReconnects] = useState(0);
  const { client, socket } = useMemo(
    () =>
      makeClient(
        token,
        (state) => {
          setConnection(state);
          if (state === "live") setReconnects((n) => n + 1);
        },
        () => onSignOut("Your sign-in has expired: sign in again."),
      ),
    [token],
  );
  useEffect(() => () => void socket.dispose(), [socket]);
  return (
    <Provider value={client}>
      <Signed connection={connection} reconnects={reconnects} onSignOut={onSignOut} />
    </Provider>
  );
}

function describe(event: LiveEvent): string {
  const who = event.workflow.subject?.fullName;
  const title = `${event.workflow.title}${who ? ` (${who})` : ""}`;
  if (event.kind === "WORKFLOW_STARTED") return `${title} started.`;
  if (event.kind === "STEP_STATUS_CHANGED" && event.step) {
    return `${title}: ${event.step.title} is now ${STEP_STATUS[event.step.status].toLowerCase()}.`;
  }
  return `${title} is now ${WORKFLOW_STATUS[event.workflowStatus].toLowerCase()}.`;
}

function Signed({
  connection,
  reconnects,
  onSignOut,
}: {
  connection: Connection;
  reconnects: number;
  onSignOut: (why?: string) => void;
}) {
  const [viewer] = useQuery({ query: ViewerDocument });
  const [live] = useSubscription<AppWorkflowEventsSubscription, LiveEvent[]>(
    { query: AppWorkflowEventsDocument },
    (previous = [], data) => [data.workflowStatusChanged, ...previous].slice(0, 20),
  );
  const events = live.data ?? [];
  const state: Live = { events, tick: `${reconnects}:${events[0]?.eventId ?? ""}` };

  useEffect(() => {
    if (isSignedOut(viewer.error)) onSignOut("Your sign-in has expired or is not valid: sign in again.");
  }, [viewer.error, onSignOut]);

  const me = viewer.data?.me;
  return (
    <>
      <header className="top">
        <div className="page top-inner">
          <strong>HR Graph</strong>
          {me ? (
            <span className="who">
              {me.fullName} <span className="muted">({me.role}, {me.company?.name})</span>
            </span>
          ) : null}
          {me ? <Bell /> : null}
          <span className={`connection ${connection}`} role="status">
            {connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Offline: reconnecting"}
          </span>
          <button type="button" className="secondary" onClick={() => onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="page">
        {viewer.error ? (
          <p className="error" role="alert">
            {combinedErrorSentence(viewer.error)}
          </p>
        ) : null}
        {live.error ? (
          <p className="error" role="alert">
            Live updates stopped: {combinedErrorSentence(live.error)}
          </p>
        ) : null}
        {viewer.fetching && !me ? <p>Loading…</p> : null}
        {me ? <Inbox live={state} /> : null}
        {me && me.role === "EMPLOYEE" ? <Employee live={state} /> : null}
        {me && me.role !== "EMPLOYEE" ? <Hr live={state} viewerId={me.id} /> : null}
        {me ? (
          <section aria-labelledby="activity-heading" className="activity">
            <h2 id="activity-heading">Live activity</h2>
            {events.length === 0 ? <p className="muted">Nothing has moved since you opened this page.</p> : null}
            <ul aria-live="polite">
              {events.slice(0, 8).map((event) => (
                <li key={event.eventId}>{describe(event)}</li>
              ))}
            </ul>
          </section>
        ) : null}
      </main>
    </>
  );
}

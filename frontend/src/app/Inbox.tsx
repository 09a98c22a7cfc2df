// The inbox: everything that waits on me across workflows, by due date; it refetches when
// myTasksChanged says a step in it (or leaving it) moved, and offers a task's "done" and an
// approval's "approve" in place.
import { useCallback, useEffect, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import {
  AppApproveStepDocument,
  AppCompleteTaskDocument,
  AppInboxChangedDocument,
  MyTasksDocument,
  type MyTasksQuery,
} from "../../generated/graphql";
import { dueText } from "./dates";
import { combinedErrorSentence } from "./errors";
import { type Live, useRefetchOnLive } from "./useRefetchOnLive";

type Task = MyTasksQuery["myTasks"]["edges"][number]["node"];

const KIND: Record<Task["kind"], string> = {
  DOCUMENT: "Hand in",
  TASK: "Task",
  APPROVAL: "Approve",
};

export function Inbox({ live }: { live: Live }) {
  const [tasks, reexecute] = useQuery({ query: MyTasksDocument });
  const refetch = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  useRefetchOnLive(live, refetch);
  const [changed] = useSubscription({ query: AppInboxChangedDocument });
  const lastEvent = changed.data?.myTasksChanged.eventId;
  useEffect(() => {
    if (lastEvent !== undefined) refetch();
  }, [lastEvent, refetch]);
  const edges = tasks.data?.myTasks.edges ?? [];
  return (
    <section aria-labelledby="inbox-heading">
      <h2 id="inbox-heading">Waiting on you</h2>
      {tasks.error ? (
        <p className="error" role="alert">
          {combinedErrorSentence(tasks.error)}
        </p>
      ) : null}
      {tasks.data && edges.length === 0 ? <p className="muted">Nothing waits on you.</p> : null}
      <ul className="cards inbox" data-total={tasks.data?.myTasks.totalCount ?? 0}>
        {edges.map(({ node }) => (
          <li key={node.stepId} data-task-kind={node.kind}>
            <InboxTask task={node} onChanged={refetch} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function InboxTask({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const [, complete] = useMutation(AppCompleteTaskDocument);
  const [, approve] = useMutation(AppApproveStepDocument);
  const [problem, setProblem] = useState<string | null>(null);
  const act = async () => {
    setProblem(null);
    const answer =
      task.kind === "TASK"
        ? (await complete({ stepId: task.stepId, note: "", expectedVersion: task.version })).data?.completeTask
        : (await approve({ stepId: task.stepId, expectedVersion: task.version })).data?.approveStep;
    if (answer && "code" in answer) setProblem(answer.message);
    onChanged();
  };
  return (
    <div className="inbox-task">
      <strong>
        {KIND[task.kind]}: {task.title}
      </strong>{" "}
      <span className="muted">
        {task.workflowTitle} ({task.subjectName}){task.dueOn ? `, ${dueText(task.dueOn)}` : ""}
        {task.onBehalfOfId ? ", on someone's behalf" : ""}
      </span>
      {task.kind !== "DOCUMENT" ? (
        <button type="button" onClick={() => void act()}>
          {task.kind === "TASK" ? `Mark done: ${task.title}` : `Approve step: ${task.title}`}
        </button>
      ) : null}
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

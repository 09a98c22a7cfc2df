// The bell: how many notifications are unread, updated the moment one is made (the
// notificationReceived subscription), the newest ones in a list, and "mark all read".
import { useEffect, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import {
  AppBellDocument,
  AppBellEventsDocument,
  AppMarkReadDocument,
  type AppBellEventsSubscription,
} from "../../generated/graphql";

type Heard = AppBellEventsSubscription["notificationReceived"];

export function Bell() {
  const [bell, refetch] = useQuery({ query: AppBellDocument, requestPolicy: "network-only" });
  const [heard] = useSubscription<AppBellEventsSubscription, Heard[]>(
    { query: AppBellEventsDocument },
    (previous = [], data) => [data.notificationReceived, ...previous],
  );
  const [, markRead] = useMutation(AppMarkReadDocument);
  const [open, setOpen] = useState(false);
  const newest = heard.data?.[0]?.id;
  useEffect(() => {
    if (newest) refetch({ requestPolicy: "network-only" });
  }, [newest]);

  const page = bell.data?.notifications;
  const unread = page?.unreadCount ?? 0;
  const items = page?.edges.map((edge) => edge.node) ?? [];
  const markAll = async () => {
    const ids = items.filter((item) => !item.read).map((item) => item.id);
    if (ids.length > 0) await markRead({ ids });
    refetch({ requestPolicy: "network-only" });
  };
  return (
    <div className="bell">
      <button
        type="button"
        className="secondary"
        aria-expanded={open}
        aria-label={`Notifications: ${unread} unread`}
        onClick={() => setOpen(!open)}
      >
        Notifications <span className="unread" data-unread={unread}>{unread}</span>
      </button>
      {open ? (
        <div className="bell-list" role="region" aria-label="Notifications">
          {items.length === 0 ? <p className="muted">No notifications yet.</p> : null}
          <ul>
            {items.map((item) => (
              <li key={item.id} data-read={item.read} data-subject={item.subjectId}>
                {item.text}
              </li>
            ))}
          </ul>
          {unread > 0 ? (
            <button type="button" onClick={() => void markAll()}>
              Mark all read
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

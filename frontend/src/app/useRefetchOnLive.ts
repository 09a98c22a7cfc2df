import { useEffect, useRef } from "react";
import type { AppWorkflowEventsSubscription } from "../../generated/graphql";

export type LiveEvent = AppWorkflowEventsSubscription["workflowStatusChanged"];

/** What the shell hands each view: the live events, and when to refetch. */
export type Live = {
  /** The newest events first (at most 20). */
  events: LiveEvent[];
  /** Changes whenever something moved or the socket came back: views refetch on it. */
  tick: string;
};

// Documents outside a workflow move without a workflow event: a slow poll and a refetch when
// the tab comes back to the front cover them. The end-to-end test turns the poll off
// (window.__HR_GRAPH_POLL_MS = 0), so only live events can move its pages.
const FALLBACK_MS = (window as { __HR_GRAPH_POLL_MS?: number }).__HR_GRAPH_POLL_MS ?? 30_000;

/** Runs `refetch` each time something moved (or the socket came back), not on the first
 * render; also every FALLBACK_MS while the tab is visible, and when it becomes visible. */
export function useRefetchOnLive(live: Live, refetch: () => void): void {
  const first = useRef(true);
  const latest = useRef(refetch);
  latest.current = refetch;
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    latest.current();
  }, [live.tick]);
  useEffect(() => {
    if (FALLBACK_MS <= 0) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") latest.current();
    }, FALLBACK_MS);
    const onVisible = () => {
      if (document.visibilityState === "visible") latest.current();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, []);
}

import { useEffect, useRef } from "react";
import type { Live } from "./Shell";

/** Runs `refetch` each time something moved (or the socket came back), not on the first render. */
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
}

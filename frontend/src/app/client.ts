// urql over HTTP for queries and mutations, graphql-ws (graphql-transport-ws) for the live
// events; the token goes in the Authorization header and in connection_init, as the README says.
import { createClient as createSocket, type Client as Socket } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";

export type Connection = "connecting" | "live" | "offline";

export function makeClient(
  token: string,
  onConnection: (state: Connection) => void,
  onSignedOut: () => void,
): { client: Client; socket: Socket } {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = createSocket({
    url: `${scheme}://${window.location.host}/graphql`,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: 1000,
    shouldRetry: (event) => {
      const code = (event as { code?: number } | null)?.code;
      return code !== 4401 && code !== 4403; // no token, or a bad or expired one: sign in again
    },
    on: {
      connecting: () => onConnection("connecting"),
      connected: () => onConnection("live"),
      closed: (event) => {
        const code = (event as { code?: number } | null)?.code;
        if (code === 4401 || code === 4403) onSignedOut();
        onConnection("offline");
      },
    },
  });
  const client = new Client({
    url: "/graphql",
    fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, socket };
}

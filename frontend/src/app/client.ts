// urql over HTTP for queries and mutations, graphql-ws (graphql-transport-ws) for the live
// events; the token goes in the Authorization header and in connection_init, as the README says.
// Every operation goes by its hash only (trusted documents: frontend/trusted-documents.mjs
// writes the hashes at codegen time, the server knows their texts), as Apollo's persisted
// query extension; so the server can be set to answer trusted documents only.
import { createClient as createSocket, type Client as Socket } from "graphql-ws";
import {
  Client,
  cacheExchange,
  fetchExchange,
  getOperationName,
  makeOperation,
  mapExchange,
  subscriptionExchange,
} from "urql";
import { trustedDocuments } from "../../generated/trusted-documents";

/** Gives each operation of frontend/operations its hash: urql then sends no text. */
const trustedDocumentsExchange = mapExchange({
  onOperation(operation) {
    const name = getOperationName(operation.query);
    const sha256Hash = name === undefined ? undefined : trustedDocuments[name];
    if (sha256Hash === undefined || operation.kind === "teardown") return operation;
    const extensions = { ...operation.extensions, persistedQuery: { version: 1 as const, sha256Hash } };
    return makeOperation(operation.kind, { ...operation, extensions }, operation.context);
  },
});

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
      trustedDocumentsExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          // no text for a trusted document: its hash is in extensions.persistedQuery
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

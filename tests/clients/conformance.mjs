// Runs one real npm GraphQL client against a live HR Graph, as a frontend would, and prints
// what it received as one JSON line; tests/clients/test_conformance.py arranges the data,
// runs this once per client and checks the answers.
//
// Usage: node conformance.mjs <graphql-ws | subscriptions-transport-ws | urql | apollo>
// Environment: GRAPHQL_URL (http://…/graphql), TOKEN, WORKFLOW_ID (a workflow in progress),
// DOCUMENT_ID and DOCUMENT_VERSION (its first step's document, uploaded), AFTER_EVENT_ID (the
// last event id before the workflow started).
//
// The token goes in connectionParams ({"Authorization": "Bearer <token>"}), as the README
// shows; Apollo's HTTP link sends it as a header. The socket is the WHATWG WebSocket (Node 22's
// global, Node 20's with --experimental-websocket), the one browsers have: a binary frame
// reaches the client as a Blob, as in a browser.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { Client as UrqlClient, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import { SubscriptionClient } from "subscriptions-transport-ws";

const WAIT_MS = 15_000; // for any one answer or event
const QUIET_MS = 500; // after the last expected event: nothing more may come

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const httpUrl = env("GRAPHQL_URL");
const wsUrl = httpUrl.replace(/^http/, "ws");
const token = env("TOKEN");
const connectionParams = { Authorization: `Bearer ${token}` };
if (typeof globalThis.WebSocket !== "function") {
  throw new Error("no WHATWG WebSocket: use Node 22, or Node 20 with --experimental-websocket");
}

// One socket for the whole run, as an app keeps it, and no retry: a refused or dropped
// socket fails the run instead of being reconnected around.
const SOCKET = { lazy: false, retryAttempts: 0 };

const WORKFLOW = `query Workflow($id: ID!) {
  me { email }
  workflow(id: $id) { id version status steps { edges { node { title status } } } }
}`;
const SUBMIT = `mutation Submit($id: ID!, $expectedVersion: Int!) {
  submitDocumentForReview(id: $id, expectedVersion: $expectedVersion) {
    __typename
    ... on DocumentPayload { document { id status } }
    ... on Error { code message }
  }
}`;
const CANCEL = `mutation Cancel($id: ID!, $reason: String!, $expectedVersion: Int!) {
  cancelWorkflow(id: $id, reason: $reason, expectedVersion: $expectedVersion) {
    __typename
    ... on WorkflowPayload { workflow { id status } }
    ... on Error { code message }
  }
}`;
const WATCH = `subscription Watch($workflowId: ID, $afterEventId: ID) {
  workflowStatusChanged(workflowId: $workflowId, afterEventId: $afterEventId) {
    eventId kind workflowStatus previousWorkflowStatus previousStepStatus
    workflow { id version status }
    step { title status }
  }
}`;

/** Pushed results, pulled one at a time with a deadline. */
class Results {
  constructor() {
    this.items = [];
    this.waiting = null;
  }
  push(item) {
    this.items.push(item);
    this.wake();
  }
  fail(error) {
    this.push({ failed: error });
  }
  end() {
    this.push({ ended: true });
  }
  wake() {
    if (this.waiting && this.items.length) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(this.items.shift());
    }
  }
  /** The next result's data; `null` if nothing came within `ms` and `quiet` allows it. */
  async next(what, { ms = WAIT_MS, quiet = false } = {}) {
    const item = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve({ timedOut: true });
      }, ms);
      this.waiting = {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      this.wake();
    });
    if (item.timedOut) {
      if (quiet) return null;
      throw new Error(`${what}: nothing within ${ms} ms`);
    }
    if (item.failed) throw new Error(`${what}: ${describe(item.failed)}`);
    if (item.ended) throw new Error(`${what}: the operation completed without a result`);
    if (item.errors?.length || !item.data) throw new Error(`${what}: ${describe(item.errors ?? item)}`);
    return item.data;
  }
}

function describe(error) {
  if (error instanceof Error) return error.message;
  if (typeof Event !== "undefined" && error instanceof Event) {
    return `socket ${error.type}${"code" in error ? ` ${error.code} ${error.reason}` : ""}`;
  }
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/** A sink for graphql-ws / subscriptions-transport-ws / Apollo / urql observers. */
function collect() {
  const results = new Results();
  const sink = {
    next: (result) => results.push(result),
    error: (error) => results.fail(error),
    complete: () => results.end(),
  };
  return { results, sink };
}

// ---- the clients: each is { execute(query, variables) -> data, watch(query, variables) ->
// { results, stop() }, close() } -------------------------------------------------------------

function graphqlWs() {
  const client = createClient({ url: wsUrl, connectionParams, ...SOCKET });
  return {
    async execute(query, variables) {
      const { results, sink } = collect();
      client.subscribe({ query, variables }, sink);
      return results.next(query.split("(")[0]);
    },
    watch(query, variables) {
      const { results, sink } = collect();
      const stop = client.subscribe({ query, variables }, sink);
      return { results, stop };
    },
    close: () => client.dispose(),
  };
}

function subscriptionsTransportWs() {
  const client = new SubscriptionClient(
    wsUrl,
    { connectionParams, reconnect: false, lazy: true, timeout: WAIT_MS },
    globalThis.WebSocket,
  );
  let last = null; // the socket's last error, to explain a refusal
  client.onError((error) => (last = error));
  return {
    async execute(query, variables) {
      const { results, sink } = collect();
      const subscription = client.request({ query, variables }).subscribe(sink);
      try {
        return await results.next(query.split("(")[0]);
      } catch (error) {
        throw last ? new Error(`${error.message} (socket: ${describe(last)})`) : error;
      } finally {
        subscription.unsubscribe();
      }
    },
    watch(query, variables) {
      const { results, sink } = collect();
      const subscription = client.request({ query, variables }).subscribe(sink);
      return { results, stop: () => subscription.unsubscribe() };
    },
    close: () => client.close(),
  };
}

function urql() {
  // Every operation over the socket (enableAllOperations): the token only in connectionParams.
  const socket = createClient({ url: wsUrl, connectionParams, ...SOCKET });
  const client = new UrqlClient({
    url: httpUrl,
    requestPolicy: "network-only",
    exchanges: [
      subscriptionExchange({
        enableAllOperations: true,
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              return { unsubscribe: socket.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
  });
  // A CombinedError: the GraphQL errors, or the socket's refusal (a CloseEvent, or graphql-ws's
  // list of errors for an operation the server did not execute).
  const fromUrql = (result) => {
    if (!result.error) return result;
    const { graphQLErrors, networkError } = result.error;
    return { failed: graphQLErrors.length ? graphQLErrors.map((e) => e.message) : networkError };
  };
  return {
    async execute(query, variables) {
      const isMutation = query.trimStart().startsWith("mutation");
      const source = isMutation ? client.mutation(query, variables) : client.query(query, variables);
      const results = new Results();
      results.push(fromUrql(await source.toPromise()));
      return results.next(query.split("(")[0]);
    },
    watch(query, variables) {
      const results = new Results();
      const { unsubscribe } = client.subscription(query, variables).subscribe((r) => results.push(fromUrql(r)));
      return { results, stop: unsubscribe };
    },
    close: () => socket.dispose(),
  };
}

function apollo() {
  // The split Apollo's documentation shows: subscriptions over GraphQLWsLink, the rest over HTTP.
  const socket = createClient({ url: wsUrl, connectionParams, ...SOCKET });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new GraphQLWsLink(socket),
    new HttpLink({ uri: httpUrl, headers: { Authorization: `Bearer ${token}` } }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const fromApollo = (result) => (result.error ? { failed: result.error } : result);
  return {
    async execute(query, variables) {
      const document = gql(query);
      const results = new Results();
      try {
        const result = query.trimStart().startsWith("mutation")
          ? await client.mutate({ mutation: document, variables })
          : await client.query({ query: document, variables, fetchPolicy: "network-only" });
        results.push(fromApollo(result));
      } catch (error) {
        results.fail(error);
      }
      return results.next(query.split("(")[0]);
    },
    watch(query, variables) {
      const { results, sink } = collect();
      const subscription = client
        .subscribe({ query: gql(query), variables })
        .subscribe({ ...sink, next: (r) => results.push(fromApollo(r)) });
      return { results, stop: () => subscription.unsubscribe() };
    },
    close: () => {
      client.stop();
      socket.dispose();
    },
  };
}

const CLIENTS = {
  "graphql-ws": graphqlWs,
  "subscriptions-transport-ws": subscriptionsTransportWs,
  urql,
  apollo,
};

// ---- the scenario ---------------------------------------------------------------------------

async function events(watcher, until) {
  const received = [];
  while (!until(received)) {
    const data = await watcher.results.next(`event ${received.length + 1}`);
    received.push(data.workflowStatusChanged);
  }
  return received;
}

async function run(name) {
  const make = CLIENTS[name];
  if (!make) throw new Error(`unknown client ${name}: one of ${Object.keys(CLIENTS).join(", ")}`);
  const client = make();
  const workflowId = env("WORKFLOW_ID");
  try {
    const query = await client.execute(WORKFLOW, { id: workflowId });

    // Watch after the last event before the workflow started: its start is replayed, so the
    // watch is known to be running before the mutations move the workflow.
    const watcher = client.watch(WATCH, { workflowId, afterEventId: env("AFTER_EVENT_ID") });
    const started = await events(watcher, (got) => got.length === 1);
    const submit = await client.execute(SUBMIT, {
      id: env("DOCUMENT_ID"),
      expectedVersion: Number(env("DOCUMENT_VERSION")),
    });
    const stepped = await events(watcher, (got) => got.length === 1);
    // The step's move saved the workflow too: its event carries the version to cancel at.
    const cancel = await client.execute(CANCEL, {
      id: workflowId,
      reason: `conformance: ${name}`,
      expectedVersion: stepped[0].workflow.version,
    });
    const cancelled = await events(watcher, (got) => got.length === 1);
    watcher.stop();

    // Resume after the step's event, as after a reconnect: only what came later.
    const resumedWatcher = client.watch(WATCH, { workflowId, afterEventId: stepped[0].eventId });
    const resumed = await events(resumedWatcher, (got) => got.length === 1);
    const more = await resumedWatcher.results.next("after the resumed event", { ms: QUIET_MS, quiet: true });
    if (more) resumed.push(more.workflowStatusChanged);
    resumedWatcher.stop();

    return { client: name, query, submit, cancel, live: [...started, ...stepped, ...cancelled], resumed };
  } finally {
    await client.close();
  }
}

const timer = setTimeout(() => {
  console.error("conformance: gave up after 60 s");
  process.exit(3);
}, 60_000);
try {
  console.log(JSON.stringify(await run(process.argv[2])));
  clearTimeout(timer);
  process.exit(0);
} catch (error) {
  console.error(`conformance ${process.argv[2]}: ${error?.stack ?? describe(error)}`);
  process.exit(1);
}

// Apollo Client's persisted-queries link against a live HR Graph (trusted documents), driven by
// tests/clients/test_persisted_queries.py; prints what was sent and received as one JSON line.
// Environment: GRAPHQL_URL (http://…/graphql), TOKEN. The link's hash of an operation of
// frontend/operations is the manifest's (frontend/operations/trusted-documents.json), looked up
// by the operation's name; any other operation's is the SHA-256 of its printed text, as the
// link's default would be.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { print } from "@apollo/client/utilities";

const manifestUrl = new URL("../../frontend/operations/trusted-documents.json", import.meta.url);
const manifest = JSON.parse(readFileSync(manifestUrl, "utf8"));
const byName = {};
for (const [hash, text] of Object.entries(manifest)) {
  const found = /^(?:query|mutation|subscription) (\w+)/.exec(text);
  if (found) byName[found[1]] = hash;
}

const sent = [];
async function recordingFetch(url, init) {
  const body = init?.body ? JSON.parse(init.body) : null;
  const params = Object.fromEntries(new URL(String(url), "http://x").searchParams);
  sent.push({ method: init?.method ?? "GET", body, params });
  return fetch(url, init);
}

function client(useGETForHashedQueries) {
  const persisted = new PersistedQueryLink({
    useGETForHashedQueries,
    generateHash: (document) => {
      const name = document.definitions.find((d) => d.kind === "OperationDefinition")?.name?.value;
      return byName[name] ?? createHash("sha256").update(print(document)).digest("hex");
    },
  });
  const http = new HttpLink({
    uri: process.env.GRAPHQL_URL,
    headers: { Authorization: `Bearer ${process.env.TOKEN}` },
    fetch: recordingFetch,
  });
  return new ApolloClient({ cache: new InMemoryCache(), link: persisted.concat(http) });
}

async function outcome(apollo, query) {
  try {
    const result = await apollo.query({ query, fetchPolicy: "no-cache" });
    return { data: result.data ?? null, error: result.error?.message ?? null };
  } catch (error) {
    return { data: null, error: String(error?.message ?? error) };
  }
}

const viewerText = manifest[byName.Viewer];
const results = {};
for (const [name, useGET] of [
  ["post", false],
  ["get", true],
]) {
  const apollo = client(useGET);
  const start = sent.length;
  results[name] = {
    viewer: await outcome(apollo, gql(viewerText)),
    unknown: await outcome(apollo, gql("query NotTrusted { me { email } }")),
    sent: sent.slice(start),
  };
}
console.log(JSON.stringify(results));

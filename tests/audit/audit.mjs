// Runs graphql-http's audit of the GraphQL-over-HTTP spec against a server and prints one
// JSON line per check: {"id", "name", "status": "ok" | "warn" | "error", "reason"}.
// A MUST that fails is an "error", a SHOULD that fails a "warn".
// Usage: [AUDIT_TOKEN=<bearer token>] node audit.mjs http://127.0.0.1:8000/graphql
// HR Graph answers only signed-in callers, so the audit's requests carry AUDIT_TOKEN if set.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs <graphql url>");
  process.exit(2);
}
const token = process.env.AUDIT_TOKEN;
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;
const results = await auditServer({ url, fetchFn });
for (const result of results) {
  const reason = result.status === "ok" ? null : result.reason;
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}

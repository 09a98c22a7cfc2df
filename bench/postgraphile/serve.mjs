// PostGraphile 4.14.1 on the benchmark's database, the peer of `make bench-peer` (bench/peer.py).
// Usage: node serve.mjs <database url> <port> <pool size>
// It connects as the URL's user (the database's owner: row-level security does not apply to it),
// exposes the public schema with the connection-filter plugin (W4's relation filter), and counts
// every statement its pool sends: GET /_statements answers {"statements", "control"} (control:
// BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE, also counted in statements).
import http from "node:http";
import pg from "pg";
import { postgraphile } from "postgraphile";
import ConnectionFilterPlugin from "postgraphile-plugin-connection-filter";

const [url, port, poolSize] = process.argv.slice(2);
const counts = { statements: 0, control: 0 };
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === "string" ? config : config && config.text;
  counts.statements += 1;
  if (typeof text === "string" && /^\s*(begin|commit|rollback|savepoint|release)\b/i.test(text)) counts.control += 1;
  return originalQuery.call(this, config, ...rest);
};

const pool = new pg.Pool({ connectionString: url, max: Number(poolSize || 4) });
const middleware = postgraphile(pool, "public", {
  appendPlugins: [ConnectionFilterPlugin],
  graphileBuildOptions: { connectionFilterRelations: true },
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  disableQueryLog: true,
  retryOnInitFail: false,
});

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/_statements") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(counts));
    return;
  }
  middleware(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), "127.0.0.1", () => console.log(`peer listening on ${port}`));
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

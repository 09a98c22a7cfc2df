// Copies the GraphiQL page's assets from the pinned npm packages into app/static/graphiql,
// which the app serves itself (no CDN: GraphiQL must work without internet).
// Run by `make graphiql-assets`; the copies are committed so that `make run` needs no npm.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "app", "static", "graphiql");
const modules = join(here, "node_modules");

const assets = [
  ["react", "umd/react.production.min.js", "react.production.min.js"],
  ["react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["graphiql", "graphiql.min.js", "graphiql.min.js"],
  ["graphiql", "graphiql.min.css", "graphiql.min.css"],
];

mkdirSync(target, { recursive: true });
const versions = {};
for (const [pkg, source, name] of assets) {
  copyFileSync(join(modules, pkg, source), join(target, name));
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
for (const pkg of Object.keys(versions)) {
  copyFileSync(join(modules, pkg, "LICENSE"), join(target, `LICENSE.${pkg}`));
}
writeFileSync(join(target, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`GraphiQL assets in ${target}:`, versions);

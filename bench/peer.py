"""The project beside PostGraphile 4.14.1 on one database: ``make bench-peer``.

``python -m bench.peer``: one database (prepared as ``python -m bench`` does), the real app in a
background thread (``ROW_LEVEL_SECURITY`` as the settings have it: requests as ``hrgraph_app``
under the policies) and PostGraphile in a Node process (``bench/postgraphile/serve.mjs``,
connected as the database's owner, so no policy applies to it). The answers of W1-W5 are compared
first, each peer answer mapped onto the project's shape (:func:`to_project`); then the same Python
load generator (``bench/load.py``, not wrk) drives each workload on one then the other, the order
flipped at every turn, and the ratios project/PostGraphile are printed with req/s and SQL
statements per request (the project's from its ``extensions``; the peer's counted at its pool).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.peer_queries import PEER_QUERIES, to_project
from domains.kernel.ids import to_global_id

PEER_DIR = pathlib.Path(__file__).resolve().parent / "postgraphile"
PEER_VERSION = "4.14.1"


def _normalised(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Peer:
    """``node serve.mjs`` as a child process (its own process group, ended by its pid)."""

    def __init__(self, dsn: str, port: int, pool_size: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        # Its output to a file, not a pipe nobody reads during the load (a full pipe would stall it).
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            ["node", "serve.mjs", dsn, str(port), str(pool_size)],
            cwd=PEER_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                output = self.log.read()
                raise RuntimeError(f"PostGraphile exited with {self.process.returncode}: {output[-2000:]}")
            try:
                self.statements()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("PostGraphile did not start in time")

    def statements(self) -> tuple[int, int]:
        with urllib.request.urlopen(f"{self.base}/_statements", timeout=10) as response:
            counts = json.loads(response.read())
        return int(counts["statements"]), int(counts["control"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


def run(args: argparse.Namespace) -> int:
    import httpx

    from app.http import create_app
    from app.settings import Settings
    from app.wiring import Container
    from bench import data
    from bench.load import QUERIES, Job, Result, drive
    from bench.rls import _merged
    from bench.run import DEFAULT_SERVER, HR_EMAIL, LABELS, WORKLOADS, phase, prepare
    from bench.server import BackgroundServer, build_asgi, free_port
    from domains.kernel.principal import Principal, Role

    started = [time.monotonic()]
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name, url = asyncio.run(prepare(args, server_url, started))
    server: BackgroundServer | None = None
    peer: Peer | None = None
    try:
        dsn = data.plain_dsn(url)
        viewer = asyncio.run(data.viewer(dsn, HR_EMAIL))
        ids = asyncio.run(data.document_ids(dsn, viewer.company_id))
        editable = asyncio.run(data.document_ids(dsn, viewer.company_id, editable=True))
        half = len(editable) // 2  # W5: each side updates its own documents
        w5_ids = {
            "project": [to_global_id("Document", i) for i in editable[:half]],
            "peer": [str(i) for i in editable[half:]],
        }
        w2_ids = {"project": [to_global_id("Document", i) for i in ids], "peer": [str(i) for i in ids]}

        settings = Settings(app_env="test", database_url=url, database_pool_size=args.pool_size)
        container = Container.build(settings, url)
        token = container.verifier.issue(
            Principal(viewer.user_id, viewer.company_id, frozenset({Role(viewer.role)}), viewer.email)
        )
        rls = "on (requests as hrgraph_app, under the policies)" if settings.row_level_security else "off"
        asgi = build_asgi(create_app(container), dsn, viewer.company_id, 1, container.dispose)
        server = BackgroundServer(asgi, free_port(), None)
        server.start()
        project_base = f"http://127.0.0.1:{server.server.config.port}"
        peer = Peer(dsn, free_port(), args.pool_size)
        peer.wait_ready()
        phase(
            f"project at {project_base} (RLS {rls}); PostGraphile {PEER_VERSION} at {peer.base} (as the owner)", started
        )

        company = str(viewer.company_id)
        same = True
        with httpx.Client(timeout=60) as client:
            headers = {"authorization": f"Bearer {token}"}
            probe_project = w5_ids["project"][0]
            probe_peer = w5_ids["peer"][0]
            for workload in WORKLOADS:
                if workload not in args.workloads:
                    continue
                variables: dict[str, Any] = {}
                peer_variables: dict[str, Any] = {"company": company}
                if workload == "W2":
                    variables, peer_variables = {"id": w2_ids["project"][0]}, {"id": w2_ids["peer"][0]}
                if workload == "W5":
                    # Each side edits its own document: the shapes and the version bump must match.
                    variables = {"id": probe_project, "note": "paired", "version": 1}
                    peer_variables = {"id": probe_peer, "note": "paired", "version": 2}
                ours = client.post(
                    f"{project_base}/graphql",
                    json={"query": QUERIES[workload], "variables": variables},
                    headers=headers,
                ).json()
                theirs = client.post(
                    f"{peer.base}/graphql", json={"query": PEER_QUERIES[workload], "variables": peer_variables}
                ).json()
                if ours.get("errors") or theirs.get("errors"):
                    print(f"{workload} errors: ours {ours.get('errors')}, peer {theirs.get('errors')}", file=sys.stderr)
                    return 1
                mapped = to_project(workload, theirs["data"])
                expected = ours["data"]
                if workload == "W5":  # different documents: compare all but the id
                    expected = json.loads(json.dumps(expected))
                    expected["updateDocument"]["document"].pop("id")
                    mapped["updateDocument"]["document"].pop("id")
                equal = _normalised(expected) == _normalised(mapped)
                phase(
                    f"{workload} project data == PostGraphile data (mapped): {'MATCH' if equal else 'MISMATCH'}",
                    started,
                )
                if not equal:
                    same = False
                    print(
                        f"  ours: {_normalised(expected)[:600]}\n  peer: {_normalised(mapped)[:600]}", file=sys.stderr
                    )
        if not same:
            return 1
        # The probes left both W5 documents at version 2.
        versions = {probe_project: 2, probe_peer: 2}

        counts = {
            "W1": args.requests_w1,
            "W2": args.requests_w2,
            "W3": args.requests_w3,
            "W4": args.requests_w4,
            "W5": args.requests_w5,
        }
        bases = {"project": project_base, "peer": peer.base}
        results: dict[tuple[str, str], Result] = {}
        peer_statements: dict[str, list[int]] = {}  # workload -> [statements, control, requests]
        failed = False
        sides = ("project", "peer")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            turns = [(r, w) for r in range(args.rounds) for w in args.workloads]
            for index, (_, workload) in enumerate(turns):
                for side in sides if index % 2 == 0 else tuple(reversed(sides)):
                    count = counts[workload]
                    warmup = max(args.concurrency * 2, count // 10)
                    job = Job(
                        workload,
                        "graphql" if side == "project" else "peer",
                        bases[side],
                        token,
                        count,
                        warmup,
                        args.concurrency,
                        w2_ids[side] if workload == "W2" else w5_ids[side] if workload == "W5" else [],
                        company=company,
                        versions=versions,
                    )
                    before = peer.statements()
                    result = pool.submit(drive, job).result()
                    after = peer.statements()
                    versions.update(result.versions)
                    if side == "peer":
                        total = peer_statements.setdefault(workload, [0, 0, 0])
                        total[0] += after[0] - before[0]
                        total[1] += after[1] - before[1]
                        total[2] += warmup + count
                    results[(workload, side)] = _merged(results.get((workload, side)), result)
                    phase(
                        f"{workload} {side:<7}: {result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms, "
                        f"p99 {result.percentile(99):.1f} ms, {len(result.failures)} failures",
                        started,
                    )
                    if result.failures:
                        failed = True
                        for failure in result.failures[:3]:
                            print(f"  failure: {failure}", file=sys.stderr)
        print()
        print(
            f"Concurrency {args.concurrency}, {args.rounds} paired rounds, Python load generator (bench/load.py, "
            f"httpx in its own process; not wrk); ratio = project req/s / PostGraphile req/s (<1: slower)."
        )
        print(
            f"Project: RLS {rls}, pool {args.pool_size}. PostGraphile {PEER_VERSION} (Node {_node_version()}): "
            f"connects as the database's owner (no row-level security), pool {args.pool_size}."
        )
        header = (
            f"{'workload':<9}{'ratio':>7}{'project req/s':>15}{'peer req/s':>12}{'p99 project':>13}{'p99 peer':>10}"
            f"{'SQL/req project':>17}{'SQL/req peer':>14}{'(of which txn)':>16}"
        )
        print(header)
        print("-" * len(header))
        for workload in args.workloads:
            ours, theirs = results[(workload, "project")], results[(workload, "peer")]
            statements, control, requests = peer_statements.get(workload, [0, 0, 1])
            print(
                f"{workload:<9}{ours.rps / theirs.rps if theirs.rps else 0:>7.2f}{ours.rps:>15.1f}{theirs.rps:>12.1f}"
                f"{ours.percentile(99):>13.1f}{theirs.percentile(99):>10.1f}"
                f"{ours.statements_per_request:>17.2f}{statements / requests:>14.2f}{control / requests:>16.2f}"
            )
        for workload in args.workloads:
            print(f"  {workload}: {LABELS[workload]}")
        print("Answers equal before the load (peer answers mapped onto the project's shape): yes")
        return 1 if failed else 0
    finally:
        if peer is not None:
            peer.stop()
        if server is not None:
            server.stop()
        asyncio.run(data.drop_database(server_url, name))
        phase(f"dropped database {name}", started)


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    from bench.run import WORKLOADS

    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--requests-w1", type=int, default=400)
    parser.add_argument("--requests-w2", type=int, default=2000)
    parser.add_argument("--requests-w3", type=int, default=300)
    parser.add_argument("--requests-w4", type=int, default=400)
    parser.add_argument("--requests-w5", type=int, default=600)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--pool-size", type=int, default=4, help="each side's database pool (the cluster is shared)")
    parser.add_argument("--rounds", type=int, default=2, help="each workload this often per side, in turn")
    args = parser.parse_args(argv)
    if shutil.which("node") is None or not (PEER_DIR / "node_modules" / "postgraphile").is_dir():
        print(
            "bench.peer needs Node.js 20+ and `npm ci` in bench/postgraphile (make bench-peer does both)",
            file=sys.stderr,
        )
        return 2
    return run(args)


if __name__ == "__main__":  # the load process (spawn) re-imports this module: do not run again
    sys.exit(main())

"""Orchestration: database → server → workloads → table."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import multiprocessing
import os
import platform
import pstats
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import httpx

from bench import data
from bench.load import QUERIES, Job, Result, drive
from bench.server import BackgroundServer, build_asgi, free_port

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
HR_EMAIL = "hr@acme.example"
POOL_SIZE = 10  # the app's default ``database_pool_size``


WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
LABELS = {
    "W1": "100 docs + owner + company",
    "W2": "one doc + owner",
    "W3": "companies > users(20) > documents(5), totalCount at each level",
    "W4": "filtered (relation filter), ordered page of 50 + totalCount",
    "W5": "versioned updateDocument mutation",
}
_progress = [sys.stdout]  # stderr with --json, so that stdout is the JSON object alone


def phase(message: str, started: list[float]) -> None:
    print(f"[{time.monotonic() - started[0]:6.1f}s] {message}", flush=True, file=_progress[0])


def _normalised(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def table(results: dict[tuple[str, str], Result]) -> str:
    header = (
        f"{'workload':<9}{'ours req/s':>11}{'ref req/s':>11}{'ours/ref':>9}"
        f"{'p50 ours':>10}{'p50 ref':>9}{'ratio':>7}{'p99 ours':>10}{'p99 ref':>9}{'ratio':>7}"
        f"{'SQL/req ours':>14}{'SQL/req ref':>13}"
    )
    lines = [header, "-" * len(header)]
    for name in WORKLOADS:
        ours, ref = results.get((name, "graphql")), results.get((name, "reference"))
        if ours is None or ref is None:
            continue
        lines.append(
            f"{name:<9}{ours.rps:>11.1f}{ref.rps:>11.1f}{_ratio(ours.rps, ref.rps):>9}"
            f"{ours.percentile(50):>10.1f}{ref.percentile(50):>9.1f}"
            f"{_ratio(ours.percentile(50), ref.percentile(50)):>7}"
            f"{ours.percentile(99):>10.1f}{ref.percentile(99):>9.1f}"
            f"{_ratio(ours.percentile(99), ref.percentile(99)):>7}"
            f"{ours.statements_per_request:>14.2f}{ref.statements_per_request:>13.2f}"
        )
    return "\n".join(lines)


def figures(results: dict[tuple[str, str], Result]) -> dict[str, dict[str, float]]:
    """What ``--json`` prints: per workload, ours and the reference in the same run."""
    out: dict[str, dict[str, float]] = {}
    for name in WORKLOADS:
        ours, ref = results.get((name, "graphql")), results.get((name, "reference"))
        if ours is None or ref is None:
            continue
        out[name] = {
            "rps": round(ours.rps, 1),
            "reference_rps": round(ref.rps, 1),
            "ratio": round(ours.rps / ref.rps, 3) if ref.rps else 0.0,
            "statements": round(ours.statements_per_request, 2),
            "p99_ms": round(ours.percentile(99), 1),
            "reference_p99_ms": round(ref.percentile(99), 1),
        }
    return out


async def prepare(args: argparse.Namespace, server_url: str, started: list[float]) -> tuple[str, str]:
    from app.database import migrate
    from app.seed import seed_demo
    from app.settings import Settings
    from app.wiring import Container

    name, url = await data.create_database(server_url)
    phase(f"created database {name}", started)
    try:
        await asyncio.to_thread(migrate, url)
        phase("migrations applied", started)
        container = Container.build(Settings(app_env="test", database_url=url), url)
        try:
            if not await seed_demo(container):
                raise RuntimeError("the fresh database was not empty")
        finally:
            await container.dispose()
        phase("demo data loaded", started)
        loaded = await data.bulk_load(data.plain_dsn(url), args.documents)
        phase(
            f"bulk-loaded: {loaded.companies} companies, {loaded.users} users, {loaded.documents} documents",
            started,
        )
    except BaseException:
        await data.drop_database(server_url, name)
        raise
    return name, url


def run(args: argparse.Namespace) -> int:
    from app.http import create_app
    from app.settings import Settings
    from app.wiring import Container
    from domains.kernel.ids import to_global_id
    from domains.kernel.principal import Principal, Role

    started = [time.monotonic()]
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name, url = asyncio.run(prepare(args, server_url, started))
    server: BackgroundServer | None = None
    profile = cProfile.Profile() if args.profile else None
    try:
        viewer = asyncio.run(data.viewer(data.plain_dsn(url), HR_EMAIL))
        ids = asyncio.run(data.document_ids(data.plain_dsn(url), viewer.company_id))
        relay_ids = [to_global_id("Document", i) for i in ids]
        editable = asyncio.run(data.document_ids(data.plain_dsn(url), viewer.company_id, editable=True))
        editable_ids = [to_global_id("Document", i) for i in editable]

        settings = Settings(app_env="test", database_url=url, database_pool_size=POOL_SIZE)
        container = Container.build(settings, url)
        token = container.verifier.issue(
            Principal(viewer.user_id, viewer.company_id, frozenset({Role(viewer.role)}), viewer.email)
        )
        asgi = build_asgi(
            create_app(container), data.plain_dsn(url), viewer.company_id, POOL_SIZE, container.dispose
        )
        port = free_port()
        server = BackgroundServer(asgi, port, profile)
        server.start()
        base = f"http://127.0.0.1:{port}"
        phase(f"app serving on {base} (uvicorn in a background thread); {len(ids)} Acme documents", started)

        # Once: the GraphQL answers and the reference answers must carry the same data.
        same = True
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = {"authorization": f"Bearer {token}"}
            for workload in ("W1", "W3", "W4"):
                ours = client.post("/graphql", json={"query": QUERIES[workload]}, headers=headers).json()
                ref = client.post(f"/reference/{workload.lower()}", headers=headers).json()
                if ours.get("errors"):
                    print(f"GraphQL {workload} answered with errors: {ours['errors']}", file=sys.stderr)
                    return 1
                equal = _normalised(ours.get("data")) == _normalised(ref.get("data"))
                phase(f"{workload} GraphQL data == reference data: {'MATCH' if equal else 'MISMATCH'}", started)
                if not equal:
                    same = False
                    print(f"  ours: {_normalised(ours)[:600]}\n  ref:  {_normalised(ref)[:600]}", file=sys.stderr)

        jobs = []
        counts = {
            "W1": args.requests_w1,
            "W2": args.requests_w2,
            "W3": args.requests_w3,
            "W4": args.requests_w4,
            "W5": args.requests_w5,
        }
        half = len(editable_ids) // 2  # W5: each side updates its own documents
        w5_ids = {"graphql": editable_ids[:half], "reference": editable_ids[half:]}
        for workload in args.workloads:
            count = counts[workload]
            for target in ("graphql", "reference"):
                ids_for_job = relay_ids if workload == "W2" else w5_ids[target] if workload == "W5" else []
                jobs.append(
                    Job(
                        name=workload,
                        target=target,
                        base_url=base,
                        token=token,
                        requests=count,
                        warmup=max(args.concurrency * 2, count // 10),
                        concurrency=args.concurrency,
                        document_ids=ids_for_job,
                    )
                )
        # The ceiling of this client and uvicorn/Starlette with no work behind them.
        jobs.append(
            Job(
                "HTTP",
                "healthz",
                base,
                token,
                args.requests_w2,
                max(args.concurrency * 2, args.requests_w2 // 10),
                args.concurrency,
            )
        )
        results: dict[tuple[str, str], Result] = {}
        failed = False
        # A separate process for the client, so it does not share the server thread's GIL.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            for job in jobs:
                result = pool.submit(drive, job).result()
                results[(job.name, job.target)] = result
                phase(
                    f"{job.name} {job.target:<9}: {result.requests} requests in {result.seconds:.1f}s, "
                    f"{result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms, "
                    f"p99 {result.percentile(99):.1f} ms, {result.statements_per_request:.2f} SQL/request"
                    + (f" ({sum(result.sql_ms) / len(result.sql_ms):.1f} ms in SQL)" if result.sql_ms else "")
                    + ", "
                    f"{len(result.failures)} failures",
                    started,
                )
                if result.failures:
                    failed = True
                    for failure in result.failures[:3]:
                        print(f"  failure: {failure}", file=sys.stderr)

        if args.json:
            print(json.dumps(figures(results)))
            return 1 if failed or not same else 0
        print()
        print(
            f"Concurrency {args.concurrency}; latencies in ms; ratio = ours / reference "
            f"(throughput: <1 means slower; latency: >1 means slower)."
        )
        print(
            f"Machine: {os.cpu_count()} cores shared by the load client (own process), the app "
            f"(uvicorn thread, 1 event loop) and PostgreSQL; Python {platform.python_version()}."
        )
        print(table(results))
        ceiling = results.get(("HTTP", "healthz"))
        if ceiling is not None:
            print(
                f"Client + HTTP ceiling (GET /healthz, no database, same client and concurrency): "
                f"{ceiling.rps:.1f} req/s, p50 {ceiling.percentile(50):.1f} ms, p99 {ceiling.percentile(99):.1f} ms"
            )
        print(f"W1, W3, W4 data equal to the reference: {'yes' if same else 'NO'}")
        for workload in args.workloads:
            print(f"  {workload}: {LABELS[workload]}")
        return 1 if failed or not same else 0
    finally:
        if server is not None:
            server.stop()
            phase("server stopped", started)
        if profile is not None:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(40)
            with open(args.profile, "w") as f:
                f.write(out.getvalue())
            phase(f"server-thread profile written to {args.profile}", started)
        asyncio.run(data.drop_database(server_url, name))
        phase(f"dropped database {name}", started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests-w1", type=int, default=400)
    parser.add_argument("--requests-w2", type=int, default=2000)
    parser.add_argument("--requests-w3", type=int, default=300)
    parser.add_argument("--requests-w4", type=int, default=400)
    parser.add_argument("--requests-w5", type=int, default=600)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the server thread and write the top functions to FILE"
    )
    args = parser.parse_args(argv)
    if args.json:
        _progress[0] = sys.stderr
    return run(args)

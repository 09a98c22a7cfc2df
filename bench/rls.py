"""Row-level security's cost: W1-W5 against the same app with the policies on and off, in one run.

``python -m bench.rls``: one database (as ``python -m bench`` prepares it), two servers of the
real app on it, one with ``ROW_LEVEL_SECURITY`` on (requests run as ``hrgraph_app`` under the
policies) and one with it off (requests run as the owner), the same client, workloads taken in
turn (on then off, off then on for the next, so that drift favours neither).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench import data
from bench.load import Job, Result, drive
from bench.run import DEFAULT_SERVER, HR_EMAIL, LABELS, WORKLOADS, phase, prepare
from bench.server import BackgroundServer, build_asgi, free_port

SIDES = ("on", "off")


def table(results: dict[tuple[str, str], Result]) -> str:
    header = (
        f"{'workload':<9}{'on req/s':>10}{'off req/s':>10}{'on/off':>8}"
        f"{'p50 on':>8}{'p50 off':>9}{'p99 on':>8}{'p99 off':>9}{'SQL/req on':>12}{'SQL/req off':>12}"
    )
    lines = [header, "-" * len(header)]
    for name in WORKLOADS:
        on, off = results.get((name, "on")), results.get((name, "off"))
        if on is None or off is None:
            continue
        lines.append(
            f"{name:<9}{on.rps:>10.1f}{off.rps:>10.1f}{on.rps / off.rps if off.rps else 0:>8.2f}"
            f"{on.percentile(50):>8.1f}{off.percentile(50):>9.1f}{on.percentile(99):>8.1f}{off.percentile(99):>9.1f}"
            f"{on.statements_per_request:>12.2f}{off.statements_per_request:>12.2f}"
        )
    return "\n".join(lines)


def _merged(before: Result | None, more: Result) -> Result:
    """Rounds of one workload on one side, as one result."""
    if before is None:
        return more
    return Result(
        more.name,
        more.target,
        before.requests + more.requests,
        before.seconds + more.seconds,
        before.latencies_ms + more.latencies_ms,
        before.statements + more.statements,
        before.failures + more.failures,
        before.sql_ms + more.sql_ms,
    )


def run(args: argparse.Namespace) -> int:
    from app.http import create_app
    from app.settings import Settings
    from app.wiring import Container
    from domains.kernel.ids import to_global_id
    from domains.kernel.principal import Principal, Role

    started = [time.monotonic()]
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name, url = asyncio.run(prepare(args, server_url, started))
    servers: dict[str, BackgroundServer] = {}
    try:
        viewer = asyncio.run(data.viewer(data.plain_dsn(url), HR_EMAIL))
        ids = asyncio.run(data.document_ids(data.plain_dsn(url), viewer.company_id))
        relay_ids = [to_global_id("Document", i) for i in ids]
        editable = asyncio.run(data.document_ids(data.plain_dsn(url), viewer.company_id, editable=True))
        editable_ids = [to_global_id("Document", i) for i in editable]
        half = len(editable_ids) // 2  # W5: each side updates its own documents
        w5_ids = {"on": editable_ids[:half], "off": editable_ids[half:]}
        bases: dict[str, str] = {}
        token = ""
        for side in SIDES:
            settings = Settings(
                app_env="test", database_url=url, database_pool_size=args.pool_size, row_level_security=side == "on"
            )
            container = Container.build(settings, url)
            token = container.verifier.issue(
                Principal(viewer.user_id, viewer.company_id, frozenset({Role(viewer.role)}), viewer.email)
            )
            app = create_app(container)
            # The reference endpoints are not used here: their pool is the smallest there is.
            asgi = build_asgi(app, data.plain_dsn(url), viewer.company_id, 1, container.dispose)
            port = free_port()
            servers[side] = BackgroundServer(asgi, port, None)
            servers[side].start()
            bases[side] = f"http://127.0.0.1:{port}"
        phase(f"two servers: RLS on at {bases['on']}, off at {bases['off']}", started)
        counts = {
            "W1": args.requests_w1,
            "W2": args.requests_w2,
            "W3": args.requests_w3,
            "W4": args.requests_w4,
            "W5": args.requests_w5,
        }
        results: dict[tuple[str, str], Result] = {}
        failed = False
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            turns = [(r, w) for r in range(args.rounds) for w in args.workloads]
            for index, (_, workload) in enumerate(turns):
                for side in SIDES if index % 2 == 0 else tuple(reversed(SIDES)):
                    count = counts[workload]
                    ids_for_job = relay_ids if workload == "W2" else w5_ids[side] if workload == "W5" else []
                    job = Job(
                        workload,
                        "graphql",
                        bases[side],
                        token,
                        count,
                        max(args.concurrency * 2, count // 10),
                        args.concurrency,
                        ids_for_job,
                    )
                    result = pool.submit(drive, job).result()
                    results[(workload, side)] = _merged(results.get((workload, side)), result)
                    phase(
                        f"{workload} RLS {side:<3}: {result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms, "
                        f"p99 {result.percentile(99):.1f} ms, {result.statements_per_request:.2f} SQL/request, "
                        f"{len(result.failures)} failures",
                        started,
                    )
                    if result.failures:
                        failed = True
                        for failure in result.failures[:3]:
                            print(f"  failure: {failure}", file=sys.stderr)
        print()
        print(f"Concurrency {args.concurrency}; latencies in ms; on/off = throughput with RLS / without (<1: slower).")
        print(table(results))
        for workload in args.workloads:
            print(f"  {workload}: {LABELS[workload]}")
        return 1 if failed else 0
    finally:
        for server in servers.values():
            server.stop()
        asyncio.run(data.drop_database(server_url, name))
        phase(f"dropped database {name}", started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rls", description=__doc__)
    parser.add_argument("--requests-w1", type=int, default=400)
    parser.add_argument("--requests-w2", type=int, default=2000)
    parser.add_argument("--requests-w3", type=int, default=300)
    parser.add_argument("--requests-w4", type=int, default=400)
    parser.add_argument("--requests-w5", type=int, default=600)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument(
        "--pool-size",
        type=int,
        default=4,
        help="each server's DATABASE_POOL_SIZE (at most twice as many connections): two servers share the cluster",
    )
    parser.add_argument("--rounds", type=int, default=2, help="each workload this often per side, in turn")
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # the load process (spawn) re-imports this module: do not run again
    sys.exit(main())

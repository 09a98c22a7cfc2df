"""W1 and W2 against ``python -m app serve --workers N``: one serving process and two, in paired
rounds, on one database.

    python -m bench.workers [--workers 1 2] [--rounds 2] [--documents 10000] [--concurrency 16]

Creates its own database on BENCH_DATABASE_URL's server (default: the local one), migrated,
seeded and bulk-loaded as ``python -m bench`` does, and drops it at the end. Each round starts
the server (production settings, its own process group) with each worker count in turn, runs
W1 then W2 against it from a client process of its own (bench.load, the same client as
``python -m bench``), and stops it. Prints req/s and p99 per round, and the ratio of each
count's throughput to the first count's in the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench import data
from bench.load import Job, Result, drive
from bench.run import DEFAULT_SERVER, HR_EMAIL, prepare

ROOT = Path(__file__).resolve().parent.parent
SECRET = "workers-bench-secret-" + secrets.token_hex(16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _started(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("JWKS_URL", "GRAPHIQL", "WEB_CONCURRENCY")},
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server with {workers} workers did not become ready")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests-w1", type=int, default=400)
    parser.add_argument("--requests-w2", type=int, default=2000)
    args = parser.parse_args(argv)

    from adapters.auth.tokens import TokenSettings, TokenVerifier
    from domains.kernel.ids import to_global_id
    from domains.kernel.principal import Principal, Role

    started = [time.monotonic()]
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name, url = asyncio.run(prepare(args, server_url, started))
    rows: list[tuple[int, int, str, Result]] = []
    try:
        viewer = asyncio.run(data.viewer(data.plain_dsn(url), HR_EMAIL))
        ids = asyncio.run(data.document_ids(data.plain_dsn(url), viewer.company_id))
        relay_ids = [to_global_id("Document", i) for i in ids]
        principal = Principal(viewer.user_id, viewer.company_id, frozenset({Role(viewer.role)}), viewer.email)
        token = TokenVerifier(TokenSettings(secret=SECRET)).issue(principal)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            for round_ in range(1, args.rounds + 1):
                for workers in args.workers:
                    process, base = _started(data.plain_dsn(url), workers)
                    try:
                        for workload, count, document_ids in (
                            ("W1", args.requests_w1, []),
                            ("W2", args.requests_w2, relay_ids),
                        ):
                            job = Job(
                                workload,
                                "graphql",
                                base,
                                token,
                                count,
                                max(args.concurrency * 2, count // 10),
                                args.concurrency,
                                document_ids,
                            )
                            result = pool.submit(drive, job).result()
                            if result.failures:
                                print(f"  failures: {result.failures[:3]}", file=sys.stderr)
                                return 1
                            rows.append((round_, workers, workload, result))
                            print(
                                f"[{time.monotonic() - started[0]:6.1f}s] round {round_}, {workers} worker(s), "
                                f"{workload}: {result.rps:.1f} req/s, p99 {result.percentile(99):.1f} ms",
                                flush=True,
                            )
                    finally:
                        _stop(process)
    finally:
        asyncio.run(data.drop_database(server_url, name))

    first = args.workers[0]
    print()
    print(
        f"python -m app serve --workers N, concurrency {args.concurrency}, {os.cpu_count()} cores shared by the "
        f"client, the server's processes and PostgreSQL; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'round':<7}{'workers':>8}{'W1 req/s':>10}{'p99 ms':>8}{'W2 req/s':>10}{'p99 ms':>8}"
        f"{'W1 ratio':>10}{'W2 ratio':>10}"
    )
    by = {(r, w, n): res for r, w, n, res in rows}
    ratios: dict[tuple[int, str], list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        for workers in args.workers:
            w1, w2 = by[(round_, workers, "W1")], by[(round_, workers, "W2")]
            r1 = w1.rps / by[(round_, first, "W1")].rps
            r2 = w2.rps / by[(round_, first, "W2")].rps
            ratios.setdefault((workers, "W1"), []).append(r1)
            ratios.setdefault((workers, "W2"), []).append(r2)
            print(
                f"{round_:<7}{workers:>8}{w1.rps:>10.1f}{w1.percentile(99):>8.1f}{w2.rps:>10.1f}"
                f"{w2.percentile(99):>8.1f}{r1:>10.2f}{r2:>10.2f}"
            )
    for workers in args.workers[1:]:
        print(
            f"{workers} workers / {first}: W1 {statistics.median(ratios[(workers, 'W1')]):.2f}x, "
            f"W2 {statistics.median(ratios[(workers, 'W2')]):.2f}x (median of the rounds' ratios)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

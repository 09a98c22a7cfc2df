"""Events through the relay to webhooks: ``python -m bench.webhooks``.

A fresh database (migrated, demo data), ``--endpoints`` webhook endpoints of Acme on one
loopback receiver (aiohttp, answers 204 at once), and ``--workers`` real worker processes
(``python -m app worker``). Events are committed straight into the outbox as their writers do
(the advisory lock, one ``INSERT``, ``NOTIFY``), as ``DocumentSubmitted`` of Acme.

* **burst**: ``--events`` events committed at once (batches of 100); events per second from the
  first commit until the receiver has every delivery (``events x endpoints``).
* **paced**: ``--paced`` events, one per transaction, ``--rate`` a second; for each delivery the
  delay from the moment its event's commit returned to the receiver reading the request (the
  same clock, the same machine): p50, p99.
* **reference**: the same number of deliveries POSTed straight to the receiver from this
  process (signed the same way, ``--concurrency`` at once, no queue): what the receiver and the
  HTTP stack cost alone, so the ratio is what the queue, the relay and the workers add.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from adapters.jobs.webhooks import signed_headers
from bench.fanout import DEFAULT_SERVER, ROOT, _percentile, drop_database, prepare_database
from domains.webhook.model import new_secret

INSERT = """
INSERT INTO events (type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at)
SELECT 'DocumentSubmitted', 'document', d, $1, NULL,
       jsonb_build_object('documentId', d, 'ownerId', $2::uuid, 'companyId', $1::uuid, 'status', 'IN_REVIEW',
                          'kind', 'CONTRACT'),
       now()
  FROM unnest($3::uuid[]) AS d
RETURNING id
"""


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}  # (path, webhook-id) -> wall time
        self.done = asyncio.Event()
        self.expected = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.arrived.setdefault((request.path, request.headers["webhook-id"]), time.time())
        if self.expected and len(self.arrived) >= self.expected:
            self.done.set()
        return web.Response(status=204)

    def expect(self, count: int) -> None:
        self.arrived.clear()
        self.done.clear()
        self.expected = count


async def commit(conn: asyncpg.Connection, company: uuid.UUID, owner: uuid.UUID, count: int) -> tuple[list[int], float]:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", 0x68726772)
        rows = await conn.fetch(INSERT, company, owner, [uuid.uuid4() for _ in range(count)])
        ids = [r["id"] for r in rows]
        await conn.execute("SELECT pg_notify('hrgraph_events', $1)", str(max(ids)))
    return ids, time.time()


async def reference(url: str, secret: str, count: int, concurrency: int) -> float:
    """Deliveries per second POSTed straight to the receiver."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                body = json.dumps({"id": f"evt_ref{n}", "type": "DocumentSubmitted", "data": {}})
                headers = signed_headers(secret, f"ref_{n}", body, datetime.now(UTC))
                async with session.post(f"{url}/ref", data=body.encode(), headers=headers) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    name, url = await prepare_database(args.server)
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    workers: list[subprocess.Popen[bytes]] = []
    data_dir = tempfile.mkdtemp(prefix="hrgraph-bench-webhooks-")
    try:
        conn = await asyncpg.connect(url)
        company, owner = await conn.fetchrow("SELECT company_id, id FROM users WHERE email = 'alice@acme.example'")
        secret = new_secret()
        for n in range(args.endpoints):
            await conn.execute(
                "INSERT INTO webhook_endpoints (id, company_id, url, event_types, secret)"
                " VALUES ($1, $2, $3, ARRAY['DocumentSubmitted'], $4)",
                uuid.uuid4(),
                company,
                f"{base}/hook{n}",
                secret,
            )
        env = {
            **os.environ,
            "APP_ENV": "test",
            "DATABASE_URL": url,
            "DATA_DIR": data_dir,
            "WEBHOOK_ALLOW_LOOPBACK": "true",
            "REMINDER_DAYS_BEFORE": "[]",
            "DATABASE_POOL_SIZE": "2",
        }
        for n in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "worker", "--name", f"bench{n}"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(Path(data_dir) / f"worker-{n}.log").open("wb"),
                )
            )
        # warm-up: the workers are up and have relayed something
        receiver.expect(args.endpoints)
        await commit(conn, company, owner, 1)
        await asyncio.wait_for(receiver.done.wait(), 120)

        # burst
        receiver.expect(args.events * args.endpoints)
        started = time.time()
        left = args.events
        while left > 0:
            await commit(conn, company, owner, min(100, left))
            left -= 100
        await asyncio.wait_for(receiver.done.wait(), 600)
        burst_seconds = max(receiver.arrived.values()) - started
        burst_eps = args.events / burst_seconds

        # paced
        receiver.expect(args.paced * args.endpoints)
        committed: dict[str, float] = {}
        for _ in range(args.paced):
            ids, at = await commit(conn, company, owner, 1)
            committed[f"evt_{ids[0]}"] = at
            await asyncio.sleep(1 / args.rate)
        await asyncio.wait_for(receiver.done.wait(), 600)
        delays = [(arrived - committed[msg]) * 1000 for (_, msg), arrived in receiver.arrived.items()]
        await conn.close()

        ref = await reference(base, secret, args.events * args.endpoints, args.concurrency)
        deliveries_per_second = args.events * args.endpoints / burst_seconds
        return {
            "workers": args.workers,
            "endpoints": args.endpoints,
            "burst_events": args.events,
            "burst_events_per_second": round(burst_eps, 1),
            "burst_deliveries_per_second": round(deliveries_per_second, 1),
            "reference_deliveries_per_second": round(ref, 1),
            "ratio": round(deliveries_per_second / ref, 3),
            "paced_events": args.paced,
            "paced_rate": args.rate,
            "delay_p50_ms": round(_percentile(delays, 50), 1),
            "delay_p99_ms": round(_percentile(delays, 99), 1),
            "delay_max_ms": round(max(delays), 1),
        }
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await runner.cleanup()
        await drop_database(args.server, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8, help="the reference's requests at once")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

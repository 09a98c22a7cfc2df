"""Fan-out of live workflow events: ``python -m bench.fanout``.

One real server process (``python -m app serve``) on a fresh database; 100, then 1,000
WebSocket subscribers (graphql-transport-ws, HR of Acme, ``workflowStatusChanged`` without a
workflow id) held by this process. Each round commits one event through a real mutation
(``startWorkflow`` over HTTP) and waits until every subscriber has it. Measured per delivery:

* **from the mutation**: from sending the committing mutation to the subscriber reading the
  event (includes the mutation's own time: commit, NOTIFY, one outbox read, fan-out, send);
* **from occurredAt**: from the event's ``occurredAt`` (set in the transaction, before commit)
  to the subscriber reading it: the same clock, the same machine.

And the server's resident memory with the subscribers connected, minus before, per subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import websockets
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
HR_EMAIL = "hr@acme.example"
WATCH = "subscription($a: ID) { workflowStatusChanged(afterEventId: $a) { eventId status occurredAt workflow { id } } }"
START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename ... on WorkflowPayload { workflow { id } } ... on Error { code message } } }"""


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Subscriber:
    ws: Any
    received: dict[str, float] = field(default_factory=dict)  # workflow id -> monotonic time read
    occurred_lag_ms: list[float] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def read(self, arrived: asyncio.Event, counts: dict[str, int]) -> None:
        async for raw in self.ws:
            now, wall = time.monotonic(), time.time()
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            change = message["payload"]["data"]["workflowStatusChanged"]
            occurred = dt.datetime.fromisoformat(change["occurredAt"]).timestamp()
            self.occurred_lag_ms.append((wall - occurred) * 1000)
            key = change["workflow"]["id"]
            self.received[key] = now
            counts[key] = counts.get(key, 0) + 1
            arrived.set()


async def prepare_database(server_url: str) -> tuple[str, str]:
    from app.database import migrate
    from app.seed import seed_demo
    from app.settings import Settings
    from app.wiring import Container

    name = f"hrgraph_bench_fanout_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _dsn(server_url, name)
    await asyncio.to_thread(migrate, url)
    container = Container.build(Settings(app_env="test", database_url=url, _env_file=None), url)  # type: ignore[call-arg]
    try:
        await seed_demo(container)
    finally:
        await container.dispose()
    return name, url


async def drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def people(url: str) -> tuple[str, list[str]]:
    """A token for HR of Acme, and Acme's employees' global ids (workflow subjects)."""
    from app.settings import Settings
    from app.wiring import Container
    from domains.kernel.ids import to_global_id
    from domains.kernel.principal import Principal, Role

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, company_id, email, role FROM users ORDER BY email")
    finally:
        await conn.close()
    hr = next(r for r in rows if r["email"] == HR_EMAIL)
    container = Container.build(Settings(app_env="test", database_url=url, _env_file=None), url)  # type: ignore[call-arg]
    token = container.verifier.issue(Principal(hr["id"], hr["company_id"], frozenset({Role.HR}), HR_EMAIL))
    await container.dispose()
    subjects = [to_global_id("User", r["id"]) for r in rows if r["company_id"] == hr["company_id"]]
    return token, subjects


class Server:
    def __init__(self, url: str, profile: str | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "LOG_LEVEL": "WARNING"}
        # One token holds every subscriber here: the bench measures the fan-out, not the caps
        # on one user's sockets (FANOUT_CONCURRENCY is left as set, by default 4).
        for cap in ("SOCKETS_PER_ADDRESS", "SOCKETS_PER_USER", "SOCKET_OPERATIONS_PER_USER"):
            env.setdefault(cap, "5000")
        profiled = ["-m", "cProfile", "-o", profile] if profile else []
        self.process = subprocess.Popen(
            [sys.executable, *profiled, "-m", "app", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited")
                try:
                    if (await http.get(f"{self.base}/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def subscribe(base: str, token: str, after: int) -> Subscriber:
    ws = await websockets.connect(
        base.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],
        max_queue=None,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert ack["type"] == "connection_ack", ack
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"a": str(after)}}})
    )
    return Subscriber(ws)


async def last_event_id(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM events"))
    finally:
        await conn.close()


@dataclass
class LevelResult:
    subscribers: int
    rounds: int
    from_mutation_ms: list[float]
    from_occurred_ms: list[float]
    mutation_ms: list[float]
    rss_per_subscriber_kib: float
    server_cpu_per_delivery_us: float
    client_cpu_per_delivery_us: float


async def run_level(server: Server, url: str, token: str, subjects: list[str], count: int, rounds: int) -> LevelResult:
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    after = await last_event_id(url)
    rss_before = server.rss()
    subscribers: list[Subscriber] = []
    for start in range(0, count, 100):  # connect in batches: the handshake is CPU work on 2 cores
        subscribers += await asyncio.gather(
            *(subscribe(server.base, token, after) for _ in range(start, min(count, start + 100)))
        )
    arrived = asyncio.Event()
    counts: dict[str, int] = {}
    for s in subscribers:
        s.task = asyncio.create_task(s.read(arrived, counts))
    headers = {"Authorization": f"Bearer {token}"}
    from_mutation: list[float] = []
    mutation_ms: list[float] = []
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as http:

        async def one_round(n: int) -> tuple[str, float, float]:
            variables = {
                "input": {"template": "OFFBOARDING", "subjectUserId": subjects[n % len(subjects)], "dueDate": due}
            }
            sent = time.monotonic()
            response = await http.post("/graphql", json={"query": START, "variables": variables})
            answered = time.monotonic()
            body = response.json()
            workflow_id = body["data"]["startWorkflow"]["workflow"]["id"]
            deadline = time.monotonic() + 60
            while counts.get(workflow_id, 0) < count:
                arrived.clear()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"only {counts.get(workflow_id, 0)} of {count} subscribers got the event")
                try:
                    await asyncio.wait_for(arrived.wait(), remaining)
                except TimeoutError:
                    continue
            return workflow_id, sent, (answered - sent) * 1000

        await one_round(0)  # warm-up: every subscriber is live (past any replay) from here on
        memory = server.rss()
        cpu_before, client_before = server.cpu_seconds(), time.process_time()
        for s in subscribers:
            s.occurred_lag_ms.clear()
        for n in range(1, rounds + 1):
            workflow_id, sent, took = await one_round(n)
            mutation_ms.append(took)
            from_mutation += [(s.received[workflow_id] - sent) * 1000 for s in subscribers]
        server_cpu = (server.cpu_seconds() - cpu_before) / (rounds * count) * 1e6
        client_cpu = (time.process_time() - client_before) / (rounds * count) * 1e6
    from_occurred = [lag for s in subscribers for lag in s.occurred_lag_ms]
    for s in subscribers:
        assert s.task is not None
        s.task.cancel()
    await asyncio.gather(*(s.ws.close() for s in subscribers), return_exceptions=True)
    per_subscriber = (memory - rss_before) / count / 1024
    return LevelResult(
        count, rounds, from_mutation, from_occurred, mutation_ms, per_subscriber, server_cpu, client_cpu
    )


def report(result: LevelResult) -> str:
    def stats(values: list[float]) -> str:
        return (
            f"p50 {_percentile(values, 50):7.1f} ms   p99 {_percentile(values, 99):7.1f} ms   max {max(values):7.1f} ms"
        )

    return (
        f"{result.subscribers:>5} subscribers x {result.rounds} events ({len(result.from_mutation_ms)} deliveries)\n"
        f"    from the mutation:  {stats(result.from_mutation_ms)}\n"
        f"    from occurredAt:    {stats(result.from_occurred_ms)}\n"
        f"    the mutation alone: p50 {statistics.median(result.mutation_ms):7.1f} ms\n"
        f"    server memory:      {result.rss_per_subscriber_kib:7.1f} KiB resident per subscriber\n"
        f"    CPU per delivery:   server {result.server_cpu_per_delivery_us:6.0f} us, "
        f"this client {result.client_cpu_per_delivery_us:6.0f} us (the mutations' included)"
    )


async def main_async(args: argparse.Namespace) -> int:
    server_url = args.server or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER
    started = time.monotonic()
    name, url = await prepare_database(server_url)
    print(f"[{time.monotonic() - started:5.1f}s] database {name} ready", flush=True)
    server = Server(url, args.profile)
    try:
        await server.ready()
        token, subjects = await people(url)
        print(f"[{time.monotonic() - started:5.1f}s] server up on {server.base} (pid {server.process.pid})", flush=True)
        for count in (int(n) for n in args.levels.split(",")):
            rounds = args.rounds_100 if count <= 100 else args.rounds_1000
            result = await run_level(server, url, token, subjects, count, rounds)
            print(report(result), flush=True)
    finally:
        server.stop()
        await drop_database(server_url, name)
    print(f"[{time.monotonic() - started:5.1f}s] done", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="PostgreSQL server URL (default BENCH_DATABASE_URL or local postgres)")
    parser.add_argument("--rounds-100", type=int, default=20)
    parser.add_argument("--rounds-1000", type=int, default=10)
    parser.add_argument("--levels", default="100,1000", help="subscriber counts, comma-separated")
    parser.add_argument("--profile", metavar="FILE", help="run the server under cProfile, stats written to FILE")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

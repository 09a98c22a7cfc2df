"""The load generator: N requests at fixed concurrency over keep-alive HTTP, timed one by one.

It runs in its own process (see ``run.py``) so that the client does not fight the server
thread for the GIL; the two still share the machine's cores with PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

W1_QUERY = (
    "query W1 { documents(first: 100) { edges { node { id title status owner { id email company { id name } } } } } }"
)
W2_QUERY = "query W2($id: ID!) { document(id: $id) { id title owner { email } } }"


@dataclass
class Job:
    """One workload, picklable: what to send, how often, how many at once."""

    name: str  # "W1" | "W2"
    target: str  # "graphql" | "reference" | "healthz" (the HTTP stack and client alone)
    base_url: str
    token: str
    requests: int
    warmup: int
    concurrency: int
    document_ids: list[str] = field(default_factory=list)  # Relay ids, for W2
    seed: int = 7


@dataclass
class Result:
    name: str
    target: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    statements: list[int]
    failures: list[str]
    sql_ms: list[float] = field(default_factory=list)  # time inside SQL statements, as the app reports it

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        rank = min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1  # nearest rank
        return ordered[rank]

    @property
    def statements_per_request(self) -> float:
        return sum(self.statements) / len(self.statements) if self.statements else float("nan")


def _sql_ms(payload: Any) -> float | None:
    if isinstance(payload, dict):
        value = ((payload.get("extensions") or {}).get("sql") or {}).get("ms")
        return float(value) if value is not None else None
    return None


def _check(job: Job, payload: Any) -> tuple[int | None, str | None]:
    """(SQL statements reported, failure or None) for one answer."""
    if job.target == "healthz":
        return 0, None if payload == {"status": "ok"} else f"healthz answered {payload!r}"
    if not isinstance(payload, dict):
        return None, "not a JSON object"
    if payload.get("errors"):
        return None, f"errors: {json.dumps(payload['errors'])[:300]}"
    data = payload.get("data") or {}
    if job.name == "W1":
        edges = ((data.get("documents") or {}).get("edges")) or []
        if len(edges) != 100:
            return None, f"W1 returned {len(edges)} edges, not 100"
    elif data.get("document") is None:
        return None, "W2 returned no document"
    if job.target == "reference":
        return 1, None
    statements = ((payload.get("extensions") or {}).get("sql") or {}).get("statements")
    return statements, None


async def _drive(job: Job) -> Result:
    rng = random.Random(job.seed)
    headers = {"authorization": f"Bearer {job.token}"}
    limits = httpx.Limits(max_connections=job.concurrency, max_keepalive_connections=job.concurrency)

    def request(client: httpx.AsyncClient) -> Any:
        if job.target == "healthz":
            return client.get("/healthz")
        if job.target == "graphql":
            if job.name == "W1":
                body: dict[str, Any] = {"query": W1_QUERY, "operationName": "W1"}
            else:
                body = {"query": W2_QUERY, "operationName": "W2", "variables": {"id": rng.choice(job.document_ids)}}
            return client.post("/graphql", json=body, headers=headers)
        if job.name == "W1":
            return client.post("/reference/w1", headers=headers)
        return client.get("/reference/w2", params={"id": rng.choice(job.document_ids)}, headers=headers)

    async with httpx.AsyncClient(base_url=job.base_url, limits=limits, timeout=60) as client:

        async def run(total: int, record: bool, out: Result) -> None:
            remaining = [total]

            async def worker() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    started = time.perf_counter()
                    response = await request(client)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        out.failures.append(f"HTTP {response.status_code}: {response.text[:300]}")
                        continue
                    payload = response.json()
                    statements, failure = _check(job, payload)
                    if failure:
                        out.failures.append(failure)
                    if record:
                        out.latencies_ms.append(elapsed)
                        if statements is not None:
                            out.statements.append(statements)
                        sql_ms = _sql_ms(payload)
                        if sql_ms is not None:
                            out.sql_ms.append(sql_ms)

            await asyncio.gather(*(worker() for _ in range(job.concurrency)))

        result = Result(job.name, job.target, job.requests, 0.0, [], [], [])
        await run(job.warmup, False, result)
        started = time.perf_counter()
        await run(job.requests, True, result)
        result.seconds = time.perf_counter() - started
        return result


def drive(job: Job) -> Result:
    """Entry point in the load process."""
    return asyncio.run(_drive(job))

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

from bench.peer_queries import PEER_QUERIES, peer_payload

W1_QUERY = (
    "query W1 { documents(first: 100) { edges { node { id title status owner { id email company { id name } } } } } }"
)
W2_QUERY = "query W2($id: ID!) { document(id: $id) { id title owner { email } } }"
W3_QUERY = (
    "query W3 { companies { totalCount edges { node { name users(first: 20) { totalCount edges { node { email"
    " documents(first: 5) { totalCount edges { node { title } } } } } } } } } }"
)
W4_QUERY = (
    "query W4 { documents(first: 50, filter: {status: {in: [REQUESTED, UPLOADED]}, owner: {email: {ilike: \"%a%\"}}},"
    " orderBy: [{dueOn: ASC}, {title: ASC}]) { totalCount pageInfo { hasNextPage }"
    " edges { node { id title status dueOn } } } }"
)
W5_QUERY = (
    "mutation W5($id: ID!, $note: String!, $version: Int!) {"
    " updateDocument(id: $id, input: {note: $note}, expectedVersion: $version) {"
    " __typename ... on DocumentPayload { document { id version note } } ... on Error { code message } } }"
)
QUERIES = {"W1": W1_QUERY, "W2": W2_QUERY, "W3": W3_QUERY, "W4": W4_QUERY, "W5": W5_QUERY}


@dataclass
class Job:
    """One workload, picklable: what to send, how often, how many at once."""

    name: str  # "W1" … "W5", or "HTTP"
    target: str  # "graphql" | "reference" | "healthz" (the HTTP stack and client alone)
    base_url: str
    token: str
    requests: int
    warmup: int
    concurrency: int
    document_ids: list[str] = field(default_factory=list)  # Relay ids, for W2 and W5 (W5: its own)
    seed: int = 7
    company: str = ""  # target "peer" (PostGraphile, bench/peer.py): the caller's company, a uuid
    versions: dict[str, int] = field(default_factory=dict)  # W5: versions left by an earlier round


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
    versions: dict[str, int] = field(default_factory=dict)  # W5: each document's version at the end

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
    elif job.name == "W2" and data.get("document") is None:
        return None, "W2 returned no document"
    elif job.name == "W3" and not ((data.get("companies") or {}).get("edges")):
        return None, "W3 returned no company"
    elif job.name == "W4" and not ((data.get("documents") or {}).get("edges")):
        return None, "W4 returned no document"
    elif job.name == "W5" and (data.get("updateDocument") or {}).get("__typename") != "DocumentPayload":
        return None, f"W5 did not update: {json.dumps(data)[:300]}"
    if job.target == "reference":
        return 1, None
    if job.target == "peer":
        return None, None  # counted at the peer's pool (bench/peer.py)
    statements = ((payload.get("extensions") or {}).get("sql") or {}).get("statements")
    return statements, None


class Versions:
    """W5 updates with ``expectedVersion``: each document is held by one request at a time,
    and its next update expects the version the last answer reported."""

    def __init__(self, ids: list[str], known: dict[str, int] | None = None) -> None:
        self.free = list(ids)
        self.version = {id: (known or {}).get(id, 1) for id in ids}

    def take(self, rng: random.Random) -> tuple[str, int]:
        id = self.free.pop(rng.randrange(len(self.free)))
        return id, self.version[id]

    def give_back(self, id: str, payload: Any) -> None:
        data = payload.get("data") if isinstance(payload, dict) else None
        document = ((data or {}).get("updateDocument") or {}).get("document")
        if document:
            self.version[id] = document["version"]
        self.free.append(id)


async def _drive(job: Job) -> Result:
    rng = random.Random(job.seed)
    headers = {"authorization": f"Bearer {job.token}"}
    limits = httpx.Limits(max_connections=job.concurrency, max_keepalive_connections=job.concurrency)
    versions = Versions(job.document_ids, job.versions) if job.name == "W5" else None
    peer = job.target == "peer"

    async def request(client: httpx.AsyncClient) -> Any:
        if job.target == "healthz":
            return await client.get("/healthz")
        if job.name == "W5":
            assert versions is not None
            id, version = versions.take(rng)
            note = f"note {rng.randrange(10**6)}"
            if peer:
                variables = {"id": id, "note": note, "version": version + 1}
                body = {"query": PEER_QUERIES["W5"], "operationName": "W5", "variables": variables}
                response = await client.post("/graphql", json=body)
                mapped = peer_payload("W5", response.json()) if response.status_code == 200 else None
                versions.give_back(id, mapped)
                return response
            if job.target == "graphql":
                variables = {"id": id, "note": note, "version": version}
                body = {"query": W5_QUERY, "operationName": "W5", "variables": variables}
                response = await client.post("/graphql", json=body, headers=headers)
            else:
                params = {"id": id, "note": note, "version": str(version)}
                response = await client.post("/reference/w5", params=params, headers=headers)
            versions.give_back(id, response.json() if response.status_code == 200 else None)
            return response
        if peer:
            peer_variables = {"id": rng.choice(job.document_ids)} if job.name == "W2" else {"company": job.company}
            body = {"query": PEER_QUERIES[job.name], "operationName": job.name, "variables": peer_variables}
            return await client.post("/graphql", json=body)
        if job.target == "graphql":
            body = {"query": QUERIES[job.name], "operationName": job.name}
            if job.name == "W2":
                body["variables"] = {"id": rng.choice(job.document_ids)}
            return await client.post("/graphql", json=body, headers=headers)
        if job.name == "W2":
            return await client.get("/reference/w2", params={"id": rng.choice(job.document_ids)}, headers=headers)
        return await client.post(f"/reference/{job.name.lower()}", headers=headers)

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
                    if peer:
                        payload = peer_payload(job.name, payload)
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
        if versions is not None:
            result.versions = dict(versions.version)
        return result


def drive(job: Job) -> Result:
    """Entry point in the load process."""
    return asyncio.run(_drive(job))

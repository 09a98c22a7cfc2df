"""Subscriptions cannot slow another company down: an event fanned out to many distinct
subscriptions is executed a bounded number at a time (``FANOUT_CONCURRENCY``), so the HTTP
requests that arrive meanwhile are served between those executions instead of after all of
them. Measured: another company's ``me`` during the fan-out, against the same request without
it, in the same test (a ratio, generous for a loaded machine)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import httpx

from tests.api.test_workflows import _start_input
from tests.api.ws import Socket

# Each Acme user who sees the workflow (HR and ADMIN by company, Alice as its subject) at her
# caps: SOCKETS_PER_USER is 50 and SOCKET_OPERATIONS_PER_USER 200, so 600 subscriptions.
WATCHERS = ("hr@acme.example", "admin@acme.example", "alice@acme.example")
SOCKETS, PER_SOCKET = 4, 50
START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename ... on Error { code message } } }"""
ME = "{ me { email } }"
BASELINE_REQUESTS = 20
EVERY = 0.02  # seconds between two of Carol's requests during the fan-out (each one on its own)


def _watch(n: int) -> str:
    """Each its own operation: nothing is shared between their executions (schema/shared_events.py)."""
    return f"""subscription Watch{n} {{ workflowStatusChanged {{
      eventId kind occurredAt workflow {{ id title status subject {{ email fullName company {{ name }} }}
      company {{ name }} steps {{ totalCount edges {{ node {{ title status }} }} }} }} }} }}"""


async def _me(http: httpx.AsyncClient, token: str) -> float:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - started
    assert response.json()["data"] == {"me": {"email": "carol@globex.example"}}, response.text
    return elapsed


async def _settled(count: Callable[[], int]) -> int:
    """The count once it has not moved for a while."""
    last, since = count(), time.monotonic()
    async with asyncio.timeout(15):
        while time.monotonic() - since < 0.3:
            await asyncio.sleep(0.02)
            if count() != last:
                last, since = count(), time.monotonic()
    return last


async def _all_delivered(sockets: list[Socket], event_ids: list[str]) -> None:
    async def one_socket(socket: Socket) -> None:
        got: set[str] = set()
        while len(got) < PER_SOCKET:
            id, payload = await socket.next_payload(timeout=60)
            assert not payload.get("errors"), payload
            event = payload["data"]["workflowStatusChanged"]
            assert event["workflow"]["subject"]["email"] == "alice@acme.example"
            event_ids.append(event["eventId"])
            got.add(id)

    await asyncio.gather(*(one_socket(socket) for socket in sockets))


async def test_another_companys_requests_stay_fast_while_an_event_fans_out(live_server, gql) -> None:
    demo = gql.demo
    carol = demo.token("carol@globex.example")
    gate = live_server.container.socket_limits.fanout
    gate.most_running = 0
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        await _me(http, carol)  # warm
        baseline = [await _me(http, carol) for _ in range(BASELINE_REQUESTS)]

        sockets = [
            await (await Socket.open(live_server.url, demo.token(user))).acknowledged()
            for user in WATCHERS
            for _ in range(SOCKETS)
        ]
        try:
            feed = live_server.container.events
            watching = await _settled(lambda: feed.subscribers)  # earlier tests' subscriptions are gone
            for socket in sockets:  # a socket's worth at a time: each subscription signs in again
                for n in range(PER_SOCKET):
                    await socket.start(_watch(n))
                watching += PER_SOCKET
                async with asyncio.timeout(30):
                    while feed.subscribers < watching:  # every subscription waits for the next event
                        await asyncio.sleep(0.02)

            delivered: list[str] = []
            deliveries = asyncio.create_task(_all_delivered(sockets, delivered))
            started = time.perf_counter()
            answer = await gql.data(START, _start_input(demo, "alice@acme.example"), as_user="admin@acme.example")
            assert answer["startWorkflow"]["__typename"] == "WorkflowPayload", answer
            requests: list[asyncio.Task[float]] = []
            while not deliveries.done() and len(requests) < 500:  # at a steady pace, not one after another
                requests.append(asyncio.create_task(_me(http, carol)))
                await asyncio.sleep(EVERY)
            await asyncio.wait_for(deliveries, 60)
            fanned_out = time.perf_counter() - started
            attacked = await asyncio.gather(*requests)
        finally:
            for socket in sockets:
                await socket.close()

    assert len(delivered) == len(sockets) * PER_SOCKET and len(set(delivered)) == 1  # all got the one event
    assert 0 < gate.most_running <= gate.limit
    usual, under_attack = statistics.median(baseline), statistics.median(attacked)
    print(
        f"\nme: median {usual * 1000:.1f} ms alone, {under_attack * 1000:.1f} ms during the fan-out "
        f"({len(attacked)} requests, slowest {max(attacked) * 1000:.0f} ms); "
        f"{len(delivered)} deliveries in {fanned_out * 1000:.0f} ms, at most {gate.most_running} at once"
    )
    # Measured on 2 loaded cores: 2-5 ms alone; during the fan-out 15-80 ms with the gate,
    # 350-560 ms without it (every execution at once), when the pool did not time out.
    assert under_attack < max(25 * usual, 0.2), (usual, under_attack)

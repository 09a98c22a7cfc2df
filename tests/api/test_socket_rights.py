"""An open WebSocket has the rights its user has now, not those she had when it connected: on
both protocols, every operation answers as HTTP would with the same token, every live
subscription ends with a typed error once the user lost what it started with, and the socket
closes when its token expires."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa
import websockets

from adapters.auth.tokens import TokenVerifier
from domains.kernel.ids import to_global_id
from tests.api.reviews import last_event_id
from tests.api.test_workflows import WATCH, _start_input
from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket, close_code

PROTOCOLS = pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])

START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename ... on Error { code message } } }"""
ME_AND_DOCUMENTS = "{ me { email role company { name } } documents { totalCount } }"
CREATE_HR = """mutation($company: ID!) { createUser(input: { companyId: $company, email: "new.hr@acme.example",
  fullName: "New HR", role: HR }) { __typename ... on Error { code message } } }"""
DEMOTE = """mutation($id: ID!, $v: Int!) { updateUser(id: $id, input: { role: EMPLOYEE }, expectedVersion: $v) {
  __typename ... on Error { code message } } }"""
DELETE = """mutation($id: ID!, $v: Int!) { deleteUser(id: $id, expectedVersion: $v) {
  __typename ... on Error { code message } } }"""


async def _from_now(demo) -> dict:
    """Subscribe after what exists now: nothing committed later is missed."""
    return {"a": str(await last_event_id(demo.container))}


async def _version(demo, email: str) -> int:
    async with demo.container.engine.connect() as conn:
        row = await conn.execute(sa.text("SELECT version FROM users WHERE email = :e"), {"e": email})
        return int(row.scalar_one())


async def _start_for(gql, subject: str) -> None:
    """ADMIN starts a workflow at Acme: an event every Acme watcher with company rights sees."""
    data = await gql.data(START, _start_input(gql.demo, subject), as_user="admin@acme.example")
    assert data["startWorkflow"]["__typename"] == "WorkflowPayload", data


async def _first_event(socket: Socket) -> dict:
    _, payload = await socket.next_payload()
    assert not payload.get("errors"), payload
    return payload["data"]["workflowStatusChanged"]


async def _ended_with(socket: Socket, subscription_id: str) -> str:
    """The subscription's next message is a typed error, and then it is over."""
    id, payload = await socket.next_payload()
    assert id == subscription_id
    assert payload["data"] is None, payload
    (error,) = payload["errors"]
    message = await socket.receive()
    assert (message["type"], message["id"]) == ("complete", subscription_id), message
    return str(error["extensions"]["code"])


async def _over_socket(socket: Socket, query: str, variables: dict | None = None) -> dict:
    id = await socket.start(query, variables)
    got, payload = await socket.next_payload()
    assert got == id
    assert (await socket.receive())["type"] == "complete"
    return payload


async def _over_http(gql, token: str, query: str, variables: dict | None = None) -> dict:
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    body.pop("extensions", None)
    return body


def _same_answer(socket_payload: dict, http_body: dict) -> None:
    socket_payload = {k: v for k, v in socket_payload.items() if k != "extensions"}
    for errors in (socket_payload.get("errors"), http_body.get("errors")):
        for error in errors or ():
            error.get("extensions", {}).pop("requestId", None)
    assert socket_payload == http_body


async def _wait_for_recheck(demo) -> None:
    await asyncio.sleep(demo.container.settings.socket_recheck_seconds + 0.2)


async def _watch_then_lose_rights(socket: Socket, gql, lose) -> str:
    """HR watches the company's workflows and gets Alice's; then ``lose()`` takes her rights,
    and Bob's workflow starts: the code of the error her subscription ends with instead."""
    demo = gql.demo
    await socket.acknowledged()
    watching = await socket.start(WATCH, await _from_now(demo))
    await _start_for(gql, "alice@acme.example")
    assert (await _first_event(socket))["workflow"]["subject"]["email"] == "alice@acme.example"
    await lose()
    await _wait_for_recheck(demo)
    await _start_for(gql, "bob@acme.example")
    return await _ended_with(socket, watching)


async def _as_admin_on_hr(gql, mutation: str) -> None:
    demo = gql.demo
    variables = {"id": to_global_id("User", demo.id("hr@acme.example")), "v": await _version(demo, "hr@acme.example")}
    (answer,) = (await gql.data(mutation, variables, as_user="admin@acme.example")).values()
    assert answer["__typename"] == "UserPayload", answer


@PROTOCOLS
async def test_a_demoted_hr_officer_loses_her_rights_on_an_open_socket(live_server, gql, protocol) -> None:
    token = gql.demo.token("hr@acme.example")
    async with await Socket.open(live_server.url, token, protocol=protocol) as socket:
        assert await _watch_then_lose_rights(socket, gql, lambda: _as_admin_on_hr(gql, DEMOTE)) == "FORBIDDEN"

        company = to_global_id("Company", gql.demo.principal("hr@acme.example").company_id)
        created = await _over_socket(socket, CREATE_HR, {"company": company})
        assert created["data"]["createUser"]["code"] == "FORBIDDEN", created
        _same_answer(created, await _over_http(gql, token, CREATE_HR, {"company": company}))

        mine = await _over_socket(socket, ME_AND_DOCUMENTS)
        assert mine["data"]["me"]["role"] == "EMPLOYEE"
        _same_answer(mine, await _over_http(gql, token, ME_AND_DOCUMENTS))


@PROTOCOLS
async def test_a_deleted_user_is_signed_out_of_an_open_socket(live_server, gql, protocol) -> None:
    token = gql.demo.token("hr@acme.example")
    async with await Socket.open(live_server.url, token, protocol=protocol) as socket:
        assert await _watch_then_lose_rights(socket, gql, lambda: _as_admin_on_hr(gql, DELETE)) == "UNAUTHENTICATED"

        answer = await _over_socket(socket, ME_AND_DOCUMENTS)
        assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", answer
        _same_answer(answer, await _over_http(gql, token, ME_AND_DOCUMENTS))


@PROTOCOLS
async def test_a_user_moved_to_another_company_sees_only_the_new_one(live_server, gql, protocol) -> None:
    demo = gql.demo
    token = demo.token("hr@acme.example")

    async def move_to_globex() -> None:
        async with demo.container.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE users SET company_id = :c, version = version + 1 WHERE id = :u"),
                {"c": demo.principal("hr@globex.example").company_id, "u": demo.id("hr@acme.example")},
            )

    async with await Socket.open(live_server.url, token, protocol=protocol) as socket:
        assert await _watch_then_lose_rights(socket, gql, move_to_globex) == "FORBIDDEN"

        answer = await _over_socket(socket, ME_AND_DOCUMENTS)
        assert answer["data"]["me"]["company"]["name"] == "Globex"
        _same_answer(answer, await _over_http(gql, token, ME_AND_DOCUMENTS))


@PROTOCOLS
async def test_the_socket_closes_when_its_token_expires(live_server, demo, protocol) -> None:
    verifier = demo.container.verifier
    short = TokenVerifier(dataclasses.replace(verifier.settings, lifetime=dt.timedelta(seconds=2)))
    token = short.issue(demo.principal("hr@acme.example"))
    socket = await Socket.open(live_server.url, token, protocol=protocol)
    await socket.acknowledged()
    answer = await _over_socket(socket, "{ me { email } }")
    assert answer["data"] == {"me": {"email": "hr@acme.example"}}
    await socket.start(WATCH, await _from_now(demo))
    opened = asyncio.get_running_loop().time()
    assert await close_code(socket, timeout=10) == 4403
    assert asyncio.get_running_loop().time() - opened < 5


async def test_a_subscriber_is_read_again_at_most_once_per_period(live_server, gql) -> None:
    """Events to a subscriber cost no look-up each: the stored user is shared and re-read once
    per period, however many events and subscriptions there are."""
    demo = gql.demo
    loads: list[object] = []
    principals = live_server.container.principals
    original = principals._load

    async def counting(user_id):
        loads.append(user_id)
        return await original(user_id)

    principals._load = counting
    try:
        async with await Socket.open(live_server.url, demo.token("hr@acme.example")) as socket:
            await socket.acknowledged()
            for _ in range(3):
                await socket.start(WATCH, await _from_now(demo))
            for subject in ("alice@acme.example", "bob@acme.example"):
                await _start_for(gql, subject)
            for _ in range(6):
                _, payload = await socket.next_payload()
                assert not payload.get("errors"), payload
    finally:
        principals._load = original
    # 3 subscriptions x 2 events, all checked within one period after the subscriptions' own sign-in
    assert len(loads) <= 1, loads


# ---- sockets and messages that cannot exhaust the server --------------------------------------


@PROTOCOLS
async def test_a_socket_that_never_signs_in_is_closed(live_server, protocol, monkeypatch) -> None:
    monkeypatch.setattr(live_server.container.settings, "socket_init_timeout_seconds", 0.5)
    url = live_server.url.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(url, subprotocols=[protocol]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4408


async def _refused(live_server, token: str, protocol: str) -> int:
    """The close code of a socket the server closes at once (maybe before connection_init)."""
    url = live_server.url.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(url, subprotocols=[protocol]) as ws:
        try:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code


@PROTOCOLS
async def test_sockets_per_address_are_capped(live_server, demo, protocol, monkeypatch) -> None:
    monkeypatch.setattr(live_server.container.socket_limits.sockets_by_address, "cap", 3)
    sockets = [await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol) for _ in range(3)]
    try:
        for socket in sockets:
            await socket.acknowledged()
        assert await _refused(live_server, demo.token("hr@acme.example"), protocol) == 4429
    finally:
        for socket in sockets:
            await socket.close()
    await asyncio.sleep(0.2)  # closed sockets give their places back
    again = await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol)
    async with again:
        await again.acknowledged()


@PROTOCOLS
async def test_sockets_per_user_are_capped(live_server, demo, protocol, monkeypatch) -> None:
    monkeypatch.setattr(live_server.container.socket_limits.sockets_by_user, "cap", 2)
    sockets = [await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol) for _ in range(2)]
    try:
        for socket in sockets:
            await socket.acknowledged()
        assert await _refused(live_server, demo.token("hr@acme.example"), protocol) == 4429
        other = await Socket.open(live_server.url, demo.token("alice@acme.example"), protocol=protocol)
        async with other:
            await other.acknowledged()
    finally:
        for socket in sockets:
            await socket.close()


@PROTOCOLS
async def test_subscriptions_per_user_are_capped_across_sockets(live_server, demo, protocol, monkeypatch) -> None:
    monkeypatch.setattr(live_server.container.socket_limits.operations_by_user, "cap", 3)
    first = await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol)
    second = await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol)
    async with first, second:
        await first.acknowledged()
        await second.acknowledged()
        for _ in range(2):
            await first.start(WATCH, await _from_now(demo))
        await second.start(WATCH, await _from_now(demo))
        await asyncio.sleep(0.3)
        refused = await second.start(WATCH, await _from_now(demo))
        id, payload = await second.next_payload()
        assert id == refused
        assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS", payload
        await first.stop("1")
        await asyncio.sleep(0.3)
        accepted = await second.start("{ me { email } }")
        id, payload = await second.next_payload()
        assert (id, payload["data"]) == (accepted, {"me": {"email": "hr@acme.example"}})


@PROTOCOLS
async def test_a_message_larger_than_an_http_body_closes_the_socket(live_server, demo, protocol) -> None:
    socket = await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol)
    await socket.acknowledged()
    await socket.start("{ me { email } } # " + "x" * (live_server.container.settings.max_body_bytes + 1))
    assert await close_code(socket) == 1009


@PROTOCOLS
async def test_a_document_over_the_byte_cap_is_a_typed_error_on_a_socket(live_server, demo, protocol) -> None:
    from schema.limits import MAX_DOCUMENT_BYTES

    async with await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol) as socket:
        await socket.acknowledged()
        await socket.start("{ me { email } } # " + "x" * MAX_DOCUMENT_BYTES)
        message = await socket.receive()
        errors = message["payload"] if isinstance(message["payload"], list) else message["payload"].get("errors")
        errors = errors if isinstance(errors, list) else [message["payload"]]
        assert errors[0]["extensions"]["code"] == "QUERY_TOO_LARGE", message
        answer = await _over_socket(socket, "{ me { email } }")  # the socket goes on
        assert answer["data"] == {"me": {"email": "hr@acme.example"}}

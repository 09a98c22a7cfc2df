"""Every operation on a socket has its own context, session and transaction; errors are masked
exactly as over HTTP; both protocols; tokens checked before any data."""

from __future__ import annotations

import logging

import pytest

from domains.kernel.crud import EntityService
from domains.kernel.ids import to_global_id
from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket, close_code

CREATE = """mutation($title: String!, $owner: ID!) {
  createDocument(input: { ownerId: $owner, title: $title, kind: CONTRACT }) {
    __typename ... on DocumentPayload { document { title } } ... on Error { code message } } }"""


async def test_ten_mutations_sent_at_once_on_one_socket_all_succeed(live_server, demo) -> None:
    owner = to_global_id("User", demo.id("alice@acme.example"))
    async with await Socket.open(live_server.url, demo.token("hr@acme.example")) as socket:
        await socket.acknowledged()
        for n in range(10):
            await socket.start(CREATE, {"title": f"Parallel {n}", "owner": owner}, id=str(n))
        results = {}
        while len(results) < 10:
            id, payload = await socket.next_payload()
            results[id] = payload
    assert all("errors" not in p for p in results.values()), results
    titles = {p["data"]["createDocument"]["document"]["title"] for p in results.values()}
    assert titles == {f"Parallel {n}" for n in range(10)}
    services = demo.container.services(_db(demo))
    page = await services["Document"].list(demo.principal("hr@acme.example"))
    assert {d.title for d in page.items} >= titles


def _db(demo):
    from adapters.sql.database import RequestDatabase

    return RequestDatabase(demo.container.engine)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_unexpected_error_over_websocket_is_masked(live_server, demo, monkeypatch, caplog, protocol) -> None:
    async def explode(*_args, **_kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(EntityService, "list", explode)
    caplog.set_level(logging.INFO)
    async with await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol) as socket:
        await socket.acknowledged()
        await socket.start("{ companies { edges { node { name } } } }")
        _, payload = await socket.next_payload()
    (error,) = payload["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(payload)
    assert any("secret database detail" in str(r.exc_info) for r in caplog.records if r.exc_info)


async def test_domain_errors_over_websocket_carry_their_code(live_server, demo) -> None:
    async with await Socket.open(live_server.url, demo.token("alice@acme.example")) as socket:
        await socket.acknowledged()
        await socket.start("{ companies(first: 1000) { edges { node { name } } } }")
        _, payload = await socket.next_payload()
    assert payload["errors"][0]["extensions"]["code"] == "INVALID"


async def test_the_legacy_protocol_runs_queries(live_server, demo) -> None:
    async with await Socket.open(live_server.url, demo.token("dave@globex.example"), protocol=LEGACY_WS) as socket:
        await socket.acknowledged()
        await socket.start("{ me { email } }")
        _, payload = await socket.next_payload()
        assert payload["data"] == {"me": {"email": "dave@globex.example"}}
        assert (await socket.receive())["type"] == "complete"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(("token", "code"), [(None, 4401), ("forged", 4403)], ids=["missing", "forged"])
async def test_without_a_valid_token_the_socket_closes_before_any_data(live_server, protocol, token, code) -> None:
    socket = await Socket.open(live_server.url, token, protocol=protocol)
    await socket.start("{ me { email } }")
    assert await close_code(socket) == code


async def test_the_token_may_come_in_the_handshake_header(live_server, demo) -> None:
    headers = {"Authorization": f"Bearer {demo.token('carol@globex.example')}"}
    async with await Socket.open(live_server.url, None, headers=headers) as socket:
        await socket.acknowledged()
        await socket.start("{ me { email } }")
        _, payload = await socket.next_payload()
    assert payload["data"] == {"me": {"email": "carol@globex.example"}}

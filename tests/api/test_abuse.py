"""What a stranger can make the server do: each attack with a bounded number of requests
against the real app over HTTP."""

from __future__ import annotations

import asyncio
import json
import resource
import select
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket

CHUNK = b"x" * 65_536


def _resident_bytes() -> int:
    """The test process's resident memory now; the live server runs in one of its threads."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _stream_chunked(url: str, total_bytes: int) -> tuple[int, dict[str, Any] | None, int]:
    """Streams a chunked JSON body of ``total_bytes`` with no Content-Length, as an attacker
    would, and stops as soon as the server answers or hangs up.

    Returns the status, the JSON body (None when the connection was reset before it arrived)
    and how many body bytes the server took before answering. A plain blocking socket, because
    the kernel still hands over what arrived before a reset while asyncio's streams do not.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        head = b'{"query":"{__typename}","variables":{"p":"'
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        sent = len(head)
        try:
            while sent < total_bytes and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            if sent >= total_bytes:
                sock.sendall(b'3\r\n"}}\r\n0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while b"\r\n\r\n" not in received or len(received) < _expected_length(received):
                data = sock.recv(65_536)
                if not data:
                    break
                received += data
        except ConnectionResetError:
            pass
    status_line, _, rest = received.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    status = int(status_line.split(b" ", 2)[1])
    complete = len(received) >= _expected_length(received)
    return status, json.loads(body) if complete else None, sent


def _expected_length(response: bytes) -> int:
    head, separator, _ = response.partition(b"\r\n\r\n")
    if not separator:
        return len(response) + 1
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":", 1)[1])
    return len(response) + 1


async def test_a_chunked_body_over_the_cap_is_refused_while_it_streams(live_server) -> None:
    cap = live_server.container.settings.max_body_bytes
    attempted = 64 * 1024 * 1024
    before = _resident_bytes()
    status, body, sent = await asyncio.to_thread(_stream_chunked, live_server.url, attempted)
    grown = _resident_bytes() - before

    assert status == 413
    if body is not None:  # a reset may swallow it: the server hangs up on the rest of the upload
        assert body["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "limit": cap}
    # The server stopped reading near the cap, not at the end of the 64 MB ...
    assert sent < 16 * cap, f"the server read {sent} bytes before refusing"
    # ... and so held no more than about the cap in memory.
    assert grown < 24 * 1024 * 1024, f"resident memory grew by {grown} bytes"


async def test_a_chunked_body_under_the_cap_is_served(live_server) -> None:
    async def chunks():
        yield b'{"query": "{ __typename }", "variables": {"p": "'
        for _ in range(8):
            yield b"y" * 10_000
        yield b'"}}'

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


async def test_the_server_keeps_answering_during_a_body_flood(live_server) -> None:
    """Four oversized chunked uploads at once, and /healthz still answers promptly."""
    floods = [asyncio.to_thread(_stream_chunked, live_server.url, 16 * 1024 * 1024) for _ in range(4)]
    flooding = asyncio.gather(*floods)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        started = time.perf_counter()
        health = await http.get("/healthz")
        waited = time.perf_counter() - started
    results = await flooding
    assert health.status_code == 200 and waited < 2
    assert [status for status, _, _ in results] == [413] * 4


# ---- what an operation may cost before it runs --------------------------------------------

TYPENAMES = "{ " + " ".join(["__typename"] * 90_000) + " }"  # ~990 KB, under the body cap
MANY_TOKENS = "{ " + " ".join(["__typename"] * 9_000) + " }"  # ~99 KB, under the document cap
EXPENSIVE_ALIAS = "a{i}: documents(first: 100) {{ edges {{ node {{ owner {{ company {{ users(first: 100) {{ edges {{ node {{ email }} }} }} }} }} }} }} }}"  # noqa: E501


async def _timed(gql, query: str, **kwargs: Any) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = await gql.raw(query, **kwargs)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    return response.json(), elapsed


async def test_anonymous_operations_are_refused_before_parsing(gql) -> None:
    assert len(TYPENAMES) > 900_000
    body, elapsed = await _timed(gql, TYPENAMES)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert elapsed < 1.5, f"an anonymous 990 KB document took {elapsed:.2f} s"  # was 10 s
    # Not even parsed: a broken document gets the same answer, not a syntax error.
    broken = await gql("{ me { email ")
    assert broken["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # So is a bad token's request, with the reason.
    forged = await gql("{ __schema { queryType { name } } }", token="not-a-jwt")
    assert forged["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "not valid" in forged["errors"][0]["message"]


async def test_the_one_public_operation(gql) -> None:
    for query in ("{ __typename }", "query Ping { __typename }", "  {__typename}\n"):
        body = await gql(query)
        assert body["data"] == {"__typename": "Query"}, (query, body)


async def test_the_parser_stops_at_the_token_limit(gql) -> None:
    from schema.limits import MAX_TOKENS

    body, elapsed = await _timed(gql, MANY_TOKENS, as_user="hr@acme.example")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert f"more than {MAX_TOKENS} tokens" in error["message"]
    assert elapsed < 1.5, f"a signed-in 99 KB document took {elapsed:.2f} s"


async def test_a_document_longer_than_the_cap_is_refused_before_parsing(gql) -> None:
    """One string or comment is one token: the document's size is capped in bytes too."""
    from schema.limits import MAX_DOCUMENT_BYTES

    long_string = '{ documents(filter: { title: { eq: "' + "x" * MAX_DOCUMENT_BYTES + '" } }) { totalCount } }'
    for document in (TYPENAMES, long_string):
        body = await gql(document, as_user="hr@acme.example")
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_LARGE", error
        assert error["extensions"]["limit"] == MAX_DOCUMENT_BYTES


async def test_healthz_does_not_stall_behind_huge_documents(gql) -> None:
    async def ping() -> float:
        async with httpx.AsyncClient(base_url=gql.http.base_url) as http:
            started = time.perf_counter()
            assert (await http.get("/healthz")).status_code == 200
            return time.perf_counter() - started

    floods = [gql.raw(TYPENAMES), gql.raw(TYPENAMES, as_user="hr@acme.example")] * 2
    results = await asyncio.gather(*floods, ping())
    assert all(r.status_code == 200 for r in results[:-1])
    assert results[-1] < 2.0


async def test_a_costly_operation_is_refused_with_its_cost_and_the_limit(gql) -> None:
    from schema.limits import MAX_COST

    query = "{ " + " ".join(EXPENSIVE_ALIAS.format(i=i) for i in range(30)) + " }"
    body = await gql(query, as_user="admin@acme.example")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == MAX_COST
    assert error["extensions"]["cost"] > 30 * 100 * 100
    assert f"{MAX_COST:,}" in error["message"] and f"{error['extensions']['cost']:,}" in error["message"]
    assert body["extensions"]["sql"]["statements"] == 1  # the token's user; nothing of the query ran

    one = await gql("{ " + EXPENSIVE_ALIAS.format(i=0) + " }", as_user="admin@acme.example")
    assert one["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_page_sizes_from_variables_and_fragments_count_too(gql) -> None:
    query = """query($n: Int!) { ...Docs }
      fragment Docs on Query { documents(first: $n) { edges { node { owner { ...Colleagues } } } } }
      fragment Colleagues on User { company { users(first: $n) { edges { node { email } } } } }"""
    refused = await gql(query, {"n": 100}, as_user="admin@acme.example")
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    allowed = await gql(query, {"n": 5}, as_user="admin@acme.example")
    assert not allowed.get("errors"), allowed


RENAME_AS = 'r{i}: updateCompany(id: $id, input: {{name: "Guess {i}"}}, expectedVersion: $v) {{ __typename }}'


async def _acme(gql) -> tuple[str, int]:
    company = (await gql.data("{ me { company { id version } } }", as_user="hr@acme.example"))["me"]["company"]
    return company["id"], company["version"]


async def test_the_mutations_of_one_operation_are_bounded(gql) -> None:
    """Thirty aliased renames in one request were thirty guesses at other tenants' names."""
    from schema.limits import MAX_MUTATIONS

    id, version = await _acme(gql)
    head = "mutation($id: ID!, $v: Int!) { "
    too_many = head + " ".join(RENAME_AS.format(i=i) for i in range(MAX_MUTATIONS + 1)) + " __typename }"
    body = await gql(too_many, {"id": id, "v": version}, as_user="hr@acme.example")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "mutations": MAX_MUTATIONS + 1, "limit": MAX_MUTATIONS}
    assert f"over the limit of {MAX_MUTATIONS}" in error["message"]
    assert await _acme(gql) == (id, version)  # none of them ran

    # through fragments too: a fragment of six spread twice is twelve
    fragments = (
        "mutation($id: ID!, $v: Int!) { ...Six ... on Mutation { ...Six } }"
        " fragment Six on Mutation { " + " ".join(RENAME_AS.format(i=i) for i in range(6)) + " }"
    )
    spread = await gql(fragments, {"id": id, "v": version}, as_user="hr@acme.example")
    assert spread["errors"][0]["extensions"]["mutations"] == 12
    assert await _acme(gql) == (id, version)

    at_the_limit = head + " ".join(RENAME_AS.format(i=i) for i in range(MAX_MUTATIONS)) + " }"
    ran = await gql(at_the_limit, {"id": id, "v": version}, as_user="hr@acme.example")
    assert "errors" not in ran, ran
    first, *others = ran["data"].values()
    assert first == {"__typename": "CompanyPayload"} and len(others) == MAX_MUTATIONS - 1  # the others: stale
    assert await _acme(gql) == (id, version + 1)


# ---- fragments spread twice at every level ------------------------------------------------

DOUBLINGS = 40  # 2**40 copies of the bottom fragment, in under 400 tokens


def _doubling(bottom: str, levels: int = DOUBLINGS) -> str:
    parts = [f"query Doubled {{ ...F{levels} }}", f"fragment F0 on Query {{ {bottom} }}"]
    parts += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)]
    return " ".join(parts)


TOO_DEEP = "me { " + "manager { " * 11 + "email" + " }" * 11 + " }"


def _doubling_refusals() -> list[tuple[str, str, str]]:
    """Each document with the code and words of its refusal: the depth and alias limits
    (Strawberry's walked 2**40 expansions: 1 s at 18 levels, hours at 40) and the cost,
    which stops counting at its ceiling."""
    from schema.limits import COST_CEILING

    return [
        (_doubling("x: __typename"), "GRAPHQL_VALIDATION_FAILED", f"{2**DOUBLINGS} aliases found. Allowed: 30"),
        (_doubling("__typename"), "QUERY_TOO_COMPLEX", f"may cost at least {COST_CEILING:,}, over"),
        (_doubling(TOO_DEEP), "GRAPHQL_VALIDATION_FAILED", "'Doubled' exceeds maximum operation depth of 10"),
    ]


async def test_doubling_fragments_are_refused_promptly_over_http(gql) -> None:
    await _refused_promptly(gql)


async def test_doubling_fragments_are_refused_promptly_on_the_resolver_path(resolver_gql) -> None:
    await _refused_promptly(resolver_gql)


async def _refused_promptly(gql) -> None:
    for document, code, words in _doubling_refusals():
        assert len(document) < 2_000
        body, elapsed = await _timed(gql, document, as_user="hr@acme.example")
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == code, error
        assert words in error["message"], error
        assert elapsed < 2, f"{words!r} took {elapsed:.2f} s"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_doubling_fragments_are_refused_promptly_over_a_websocket(live_server, demo, protocol) -> None:
    async with await Socket.open(live_server.url, demo.token("hr@acme.example"), protocol=protocol) as socket:
        await socket.acknowledged()
        for document, code, words in _doubling_refusals():
            started = time.perf_counter()
            id = await socket.start(document)
            message = await socket.receive(timeout=10)
            while message["type"] == "complete":  # the end of the previous operation's result
                message = await socket.receive(timeout=10)
            elapsed = time.perf_counter() - started
            # a validation error is an ``error`` message (one error, or a list of them), the
            # cost's refusal a result
            assert message["type"] in ("error", "next", "data") and message["id"] == id, message
            payload = message["payload"]
            errors = payload.get("errors", [payload]) if isinstance(payload, dict) else payload
            (error,) = errors
            assert error["extensions"]["code"] == code, message
            assert words in error["message"], message
            assert elapsed < 2, f"{words!r} took {elapsed:.2f} s"

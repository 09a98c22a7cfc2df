"""Requests shaped as no browser sends them, against the real app over HTTP: what reaches the
server from the request's headers must not break it nor be echoed where it can mislead."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    "sent",
    # (other control bytes never get this far: the HTTP parser answers 400 itself)
    [b"\xff\xfe-not-utf-8", "caf\u00e9".encode(), "caf\u00e9".encode("latin-1"), b"tab\there"],
    ids=["not-utf-8", "utf-8-but-not-ascii", "latin-1", "tab"],
)
async def test_a_request_id_that_is_not_printable_ascii_is_replaced(live_server, sent: bytes) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for path in ("/healthz", "/graphql"):  # any path, before any sign-in
            response = await http.post(path, json={"query": "{ __typename }"}, headers={"X-Request-ID": sent})
            if path == "/healthz":
                assert response.status_code == 405  # /healthz is GET only: the router answered
            else:
                assert response.status_code == 200, response.text
                assert response.json()["data"] == {"__typename": "Query"}
            echoed = response.headers["x-request-id"]
            assert echoed.isascii() and echoed.isprintable() and echoed.encode() != sent
            assert len(echoed) == 32  # a fresh id, as when none is sent


async def test_a_printable_request_id_is_kept_and_capped(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        kept = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "req-42 a/b"})
        long = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "r" * 200})
    assert kept.headers["x-request-id"] == "req-42 a/b"
    assert long.headers["x-request-id"] == "r" * 64


@pytest.mark.parametrize("path", ["/graphql/", "/healthz/", "/readyz/", "/blobs/download/", "/static/graphiql"])
async def test_no_redirect_is_built_from_the_host_header(live_server, path: str) -> None:
    """Starlette answered ``/graphql/`` with a 307 to ``http://<Host header>/graphql``: an open
    redirect for anyone who can make a link reach the server with a forged Host (a cache, a proxy)."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for method in ("GET", "POST"):
            response = await http.request(method, path, headers={"Host": "evil.example"})
            assert response.status_code == 404, (method, response.status_code, response.headers)
            assert "location" not in response.headers
            assert "evil.example" not in response.text

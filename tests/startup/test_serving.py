"""`python -m app serve` once it is up: what its banner offers, and where the local store's
links point (the port it listens on, unless PUBLIC_URL says otherwise)."""

from __future__ import annotations

import base64
import signal
from pathlib import Path

import httpx
import pytest

from domains.kernel.ids import to_global_id
from tests.api.test_processes import ServerProcess
from tests.conftest import Demo

SECRET = "serving-test-secret-0123456789abcdef"
TICKET = """mutation($i: RequestDocumentUploadInput!) { requestDocumentUpload(input: $i) {
  ... on RequestDocumentUploadPayload { upload { url } } ... on Error { code message } } }"""


def _banner(server: ServerProcess) -> str:
    try:
        server.wait_ready()
        return Path(server.log.name).read_text()
    finally:
        server.stop()


@pytest.mark.parametrize("app_env", ["production", "development"])
def test_the_banner_offers_graphiql_and_tokens_only_where_they_are_served(database_url: str, app_env: str) -> None:
    server = ServerProcess(
        database_url,
        APP_ENV=app_env,
        JWT_SECRET=SECRET,
        PUBLIC_URL="https://hr.example.com",
        BLOB_ENCRYPTION_KEYS=f"k1:{base64.b64encode(bytes(range(32))).decode()}",
        LOG_LEVEL="INFO",
    )
    banner = _banner(server)
    assert f"HR Graph is serving on http://127.0.0.1:{server.port}/graphql" in banner
    assert "links to https://hr.example.com" in banner
    assert f"web app:   http://127.0.0.1:{server.port}/app/ (" in banner
    if app_env == "production":
        assert "GraphiQL" not in banner
        assert "token" not in banner
    else:
        assert f"http://127.0.0.1:{server.port}/graphql (GraphiQL in a browser)" in banner
        assert ".venv/bin/python -m app token --email hr@acme.example" in banner


@pytest.mark.parametrize("public_url", [None, "https://hr.example.com/"], ids=["unset", "set"])
async def test_the_local_store_links_follow_the_port_unless_public_url_is_set(
    database_url: str, demo: Demo, public_url: str | None
) -> None:
    """`PORT=9000 make run` hands out tickets for :9000, not for the default :8000."""
    server = ServerProcess(database_url, **({"PUBLIC_URL": public_url} if public_url else {}))
    alice = demo.id("alice@acme.example")
    document = {
        "ownerId": to_global_id("User", alice),
        "kind": "CONTRACT",
        "title": "Contract",
        "fileName": "contract.pdf",
        "contentType": "application/pdf",
        "sizeBytes": 1000,
    }
    try:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            response = await http.post(
                "/graphql",
                json={"query": TICKET, "variables": {"i": document}},
                headers={"Authorization": f"Bearer {demo.token('alice@acme.example')}"},
            )
    finally:
        server.stop()
    url = response.json()["data"]["requestDocumentUpload"]["upload"]["url"]
    assert url == f"{(public_url or server.url).rstrip('/')}/blobs/upload"


def test_serve_with_two_workers_answers_from_both_and_stops_with_them(database_url: str, demo: Demo) -> None:
    """``serve --workers 2`` (here by WEB_CONCURRENCY): two serving processes on the one port,
    each with its own parts; SIGTERM to the parent stops both, and it exits 0."""
    import psutil

    server = ServerProcess(database_url, WEB_CONCURRENCY="2", JWT_SECRET=SECRET)
    try:
        server.wait_ready()
        children = psutil.Process(server.process.pid).children()
        assert len(children) == 2 and all(c.is_running() for c in children)
        from adapters.auth.tokens import TokenSettings, TokenVerifier

        token = TokenVerifier(TokenSettings(secret=SECRET)).issue(demo.principal("hr@acme.example"))
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            for _ in range(10):
                answer = http.post("/graphql", json={"query": "{ me { email } }"}).json()
                assert answer["data"] == {"me": {"email": "hr@acme.example"}}
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        psutil.wait_procs(children, timeout=10)
        assert not any(c.is_running() for c in children)
    finally:
        server.stop()

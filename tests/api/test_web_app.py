"""The web app's server side (app/web_app.py): the demo sign-in outside production (a listed
person's token signs in to /graphql), refused (404) in production; the bundle at /app/ with its
index for the app's own paths, or a page saying how to build it; the page's settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.wiring import Container
from tests.conftest import Demo, LiveServer

SECRET = "production-test-secret-0123456789abcdef"


def _server(database_url: str, **settings: Any) -> Iterator[LiveServer]:
    built = Settings(database_url=database_url, jwt_secret=SECRET, _env_file=None, **settings)  # type: ignore[call-arg]
    with LiveServer(Container.build(built, database_url)) as server:
        yield server


@pytest.fixture(scope="module")
def production(database_url: str) -> Iterator[LiveServer]:
    yield from _server(
        database_url,
        app_env="production",
        public_url="http://127.0.0.1:1",
        oidc_authorize_url="https://id.example/authorize",
        oidc_client_id="hr-web",
    )


async def test_a_demo_person_picked_from_the_list_gets_a_token_that_signs_in(
    live_server: LiveServer, demo: Demo
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        people = (await http.get("/app/dev/people")).json()
        assert {
            "email": "alice@acme.example",
            "fullName": "Alice Martin",
            "role": "EMPLOYEE",
            "company": "Acme Corp",
        } in people
        assert {p["email"] for p in people} == set(demo.users)
        issued = await http.post("/app/dev/token", json={"email": "Alice@Acme.example "})
        assert issued.status_code == 200
        token = issued.json()["token"]
        me = await http.post(
            "/graphql", json={"query": "{ me { email role } }"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert me.json()["data"] == {"me": {"email": "alice@acme.example", "role": "EMPLOYEE"}}
        config = (await http.get("/app/config.json")).json()
        assert config == {"devSignIn": True, "oidc": None}


async def test_the_demo_sign_in_refuses_what_is_not_a_demo_person(live_server: LiveServer, demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        unknown = await http.post("/app/dev/token", json={"email": "mallory@acme.example"})
        assert unknown.status_code == 404 and "mallory@acme.example" in unknown.json()["message"]
        for body in (b"not json", b"[]", b'{"email": 3}', b'{"email": ""}'):
            answer = await http.post("/app/dev/token", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 400, body
            assert "email" in answer.json()["message"]
        assert (await http.get("/app/dev/token")).status_code == 404  # only POST issues one
        assert (await http.get("/app/dev/other")).status_code == 404


async def test_production_refuses_the_demo_sign_in_and_offers_the_identity_provider(
    production: LiveServer, demo: Demo
) -> None:
    async with httpx.AsyncClient(base_url=production.url, timeout=30) as http:
        assert (await http.get("/app/dev/people")).status_code == 404
        refused = await http.post("/app/dev/token", json={"email": "hr@acme.example"})
        assert refused.status_code == 404 and "token" not in refused.json()
        page = await http.get("/app/")  # served in production too: the bundle, or how to build it
        assert (page.status_code, '<div id="root">' in page.text) in ((200, True), (503, False))
        config = (await http.get("/app/config.json")).json()
        assert config == {
            "devSignIn": False,
            "oidc": {"authorizeUrl": "https://id.example/authorize", "clientId": "hr-web", "scope": "openid email"},
        }


async def test_the_bundle_is_served_with_its_index_for_the_apps_own_paths(tmp_path: Path, container: Container) -> None:
    from starlette.applications import Starlette

    from app.web_app import web_app_routes

    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>HR Graph</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    app = Starlette(routes=web_app_routes(container, tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        assert (await client.get("/app", follow_redirects=False)).headers["location"] == "/app/"
        index = await client.get("/app/")
        assert index.status_code == 200 and "<title>HR Graph</title>" in index.text
        assert index.headers["cache-control"] == "no-cache"
        assert (await client.get("/app/assets/index-abc.js")).text == "console.log(1)"
        routed = await client.get("/app/review/queue")
        assert routed.status_code == 200 and "<title>HR Graph</title>" in routed.text
        assert (await client.get("/app/assets/missing.js")).status_code == 404

    app = Starlette(routes=web_app_routes(container, tmp_path / "nothing-built"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        page = await client.get("/app/")
        assert page.status_code == 503
        assert "npm ci" in page.text and "make run" in page.text

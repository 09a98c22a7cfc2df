"""APP_ENV=production over HTTP: no GraphiQL, no introspection, no `extensions.sql`, unless
GRAPHIQL / INTROSPECTION turn them back on; outside production both are on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.wiring import Container
from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket
from tests.conftest import Demo, LiveServer

SECRET = "production-test-secret-0123456789abcdef"
INTROSPECTION = "{ __schema { queryType { name } } }"
HTML = {"Accept": "text/html"}


def _server(database_url: str, **settings: Any) -> Iterator[LiveServer]:
    built = Settings(database_url=database_url, jwt_secret=SECRET, _env_file=None, **settings)  # type: ignore[call-arg]
    with LiveServer(Container.build(built, database_url)) as server:
        yield server


@pytest.fixture(scope="module")
def production(database_url: str) -> Iterator[LiveServer]:
    yield from _server(database_url, app_env="production")


@pytest.fixture(scope="module")
def production_opened(database_url: str) -> Iterator[LiveServer]:
    yield from _server(database_url, app_env="production", graphiql=True, introspection=True)


def _post(server: LiveServer, demo: Demo, query: str) -> dict[str, Any]:
    token = server.container.verifier.issue(demo.principal("hr@acme.example"))
    response = httpx.post(
        f"{server.url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


def test_production_serves_no_graphiql(production: LiveServer) -> None:
    page = httpx.get(f"{production.url}/graphql", headers=HTML, timeout=30)
    assert "graphiql" not in page.text.lower()
    assert httpx.get(f"{production.url}/static/graphiql/graphiql.min.js", timeout=30).status_code == 404


async def test_production_refuses_introspection_even_with_a_token(production: LiveServer, demo: Demo) -> None:
    body = _post(production, demo, INTROSPECTION)
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()
    answered = _post(production, demo, "{ me { email } }")
    assert answered["data"] == {"me": {"email": "hr@acme.example"}}
    assert "sql" not in (answered.get("extensions") or {})


async def test_settings_turn_graphiql_and_introspection_on(production_opened: LiveServer, demo: Demo) -> None:
    page = httpx.get(f"{production_opened.url}/graphql", headers=HTML, timeout=30)
    assert page.status_code == 200 and "static/graphiql/graphiql.min.js" in page.text
    body = _post(production_opened, demo, INTROSPECTION)
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_outside_production_graphiql_comes_from_the_app_alone(live_server: LiveServer, gql) -> None:
    page = httpx.get(f"{live_server.url}/graphql", headers=HTML, timeout=30)
    assert page.status_code == 200
    assert "https://" not in page.text and "http://" not in page.text
    for asset, kind in [
        ("react.production.min.js", "javascript"),
        ("react-dom.production.min.js", "javascript"),
        ("graphiql.min.js", "javascript"),
        ("graphiql.min.css", "text/css"),
    ]:
        assert f"static/graphiql/{asset}" in page.text
        served = httpx.get(f"{live_server.url}/static/graphiql/{asset}", timeout=30)
        assert served.status_code == 200 and kind in served.headers["content-type"]
    body = await gql(INTROSPECTION, as_user="hr@acme.example")
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


# Each one would suggest a real name outside production: a field, an argument, an input
# field in a literal and in a variable, an enum value, a type.
MISTAKES = [
    ("{ me { emial } }", {}),
    ("{ users(frist: 1) { totalCount } }", {}),
    ("{ users(filter: { emial: { eq: \"x\" } }) { totalCount } }", {}),
    ("query($f: UserFilter) { users(filter: $f) { totalCount } }", {"f": {"emial": {"eq": "x"}}}),
    ("{ documents(filter: { status: { eq: APROVED } }) { totalCount } }", {}),
    ("query($f: UserFilte) { users(filter: $f) { totalCount } }", {}),
]


@pytest.mark.parametrize(("query", "variables"), MISTAKES)
async def test_production_suggests_no_names(
    production: LiveServer, live_server: LiveServer, demo: Demo, query: str, variables: dict[str, Any]
) -> None:
    """With introspection off, "Did you mean 'email'?" would hand out the schema name by name."""
    answers = []
    for server in (live_server, production):
        token = server.container.verifier.issue(demo.principal("hr@acme.example"))
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        (error,) = response.json()["errors"]
        answers.append(error["message"])
    outside, inside = answers
    assert "Did you mean" in outside, outside  # the mistake is one graphql-core would help with
    assert "Did you mean" not in inside and "'email'" not in inside and "APPROVED" not in inside
    assert inside == re.sub(r" Did you mean [^?]*\?", "", outside)  # the rest of the message stays


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_production_suggests_no_names_over_websocket(production: LiveServer, demo: Demo, protocol: str) -> None:
    token = production.container.verifier.issue(demo.principal("hr@acme.example"))
    async with await Socket.open(production.url, token, protocol=protocol) as socket:
        await socket.acknowledged()
        for query in ("subscription { workflowStatusChanged { statuss } }", "{ me { emial } }"):
            await socket.start(query)
            message = await socket.receive()
            assert message["type"] == "error", message
            errors = message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
            assert errors and all("Did you mean" not in e["message"] for e in errors), errors
            assert "Cannot query field" in errors[0]["message"]

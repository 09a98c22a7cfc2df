"""The walking skeleton through the real app over HTTP and WebSocket."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import httpx
import jwt
import pytest
import websockets

import adapters
import schema
from domains.kernel.crud import EntityService

ROOT = Path(__file__).resolve().parents[2]
ME = "{ me { email fullName role company { name slug } } }"


async def test_me_returns_the_signed_in_user(gql) -> None:
    data = await gql.data(ME, as_user="hr@acme.example")
    assert data["me"] == {
        "email": "hr@acme.example",
        "fullName": "Hannah Reed",
        "role": "HR",
        "company": {"name": "Acme Corp", "slug": "acme-corp"},
    }
    data = await gql.data(ME, as_user="carol@globex.example")
    assert data["me"]["company"]["name"] == "Globex"


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda demo: None, "a bearer token is required"),
        (lambda demo: "not-a-jwt", "not valid"),
        (
            lambda demo: jwt.encode({"sub": "x"}, "another-secret-of-sufficient-length-123", algorithm="HS256"),
            "not valid",
        ),
        (
            lambda demo: jwt.encode(
                {
                    "sub": str(demo.id("hr@acme.example")),
                    "company_id": str(demo.principal("hr@acme.example").company_id),
                    "roles": ["HR"],
                    "iss": "hr-graph",
                    "aud": "hr-graph",
                    "iat": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
                    "exp": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                },
                demo.container.settings.secret,
                algorithm="HS256",
            ),
            "expired",
        ),
        (
            lambda demo: jwt.encode(
                {
                    "sub": str(demo.id("hr@acme.example")),
                    "iss": "someone-else",
                    "aud": "hr-graph",
                    "iat": dt.datetime.now(dt.UTC),
                    "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
                    "company_id": "x",
                },
                demo.container.settings.secret,
                algorithm="HS256",
            ),
            "not valid",
        ),
    ],
    ids=["missing", "garbage", "forged", "expired", "wrong-issuer"],
)
async def test_without_a_valid_token_there_is_no_data(gql, make_token, reason) -> None:
    body = await gql("{ me { email } companies { edges { node { name } } } }", token=make_token(gql.demo))
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in error["message"]


async def test_introspection_needs_a_token(gql) -> None:
    anonymous = await gql("{ __schema { queryType { name } } }")
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql("{ __schema { queryType { name } } }", as_user="alice@acme.example")
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_company_and_user_by_id_respect_the_tenant(gql) -> None:
    acme = await gql.data("{ me { id company { id } } }", as_user="alice@acme.example")
    company_id, user_id = acme["me"]["company"]["id"], acme["me"]["id"]
    query = "query($c: ID!, $u: ID!) { company(id: $c) { name } user(id: $u) { email } }"
    same = await gql.data(query, {"c": company_id, "u": user_id}, as_user="bob@acme.example")
    assert same == {"company": {"name": "Acme Corp"}, "user": {"email": "alice@acme.example"}}
    other = await gql.data(query, {"c": company_id, "u": user_id}, as_user="carol@globex.example")
    assert other == {"company": None, "user": None}


async def test_graphiql_for_a_browser(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_queries_over_get_but_never_mutations(live_server, demo) -> None:
    headers = {"Authorization": f"Bearer {demo.token('hr@acme.example')}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        query = await http.get("/graphql", params={"query": "{ me { email } }"}, headers=headers)
        mutation = await http.get(
            "/graphql",
            params={"query": 'mutation { createCompany(input: {name: "Via Get"}) { __typename } }'},
            headers=headers,
        )
    assert query.json()["data"] == {"me": {"email": "hr@acme.example"}}
    assert mutation.status_code == 400
    assert "not allowed" in mutation.text.lower()
    count = await EntityService.count(demo.container.services(_db(demo))["Company"], _admin(demo))
    assert count == 2


def _db(demo):
    from adapters.sql.database import RequestDatabase

    return RequestDatabase(demo.container.engine)


def _admin(demo):
    return demo.principal("admin@acme.example")


async def test_health_and_readiness(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readiness_fails_when_the_database_does_not_answer(settings) -> None:
    from app.http import create_app
    from app.wiring import Container

    broken = Container.build(settings, "postgresql://postgres@127.0.0.1:1/nowhere")
    transport = httpx.ASGITransport(app=create_app(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    await broken.dispose()


async def test_websocket_query_with_token_in_connection_init(live_server, demo) -> None:
    url = live_server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {demo.token('dave@globex.example')}"}}
            )
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ME}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "next"
        assert message["payload"]["data"]["me"]["email"] == "dave@globex.example"
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}


async def test_websocket_rejects_a_forged_token(live_server) -> None:
    url = live_server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(resolver_gql, monkeypatch, caplog) -> None:
    gql = resolver_gql  # the explosion is planted in the resolver path's service

    async def explode(*_args, **_kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(EntityService, "list", explode)
    caplog.set_level(logging.INFO)
    response = await gql.raw(
        "{ companies { edges { node { name } } } }", as_user="hr@acme.example", headers={"X-Request-ID": "req-12345"}
    )
    body = response.json()
    (error,) = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-12345"}
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "req-12345"
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-12345"]
    assert any(r.exc_info and "secret database detail" in str(r.exc_info[1]) for r in logged)
    access = [r for r in logged if r.name == "hrgraph.access"]
    assert access and access[0].status == 200 and access[0].duration_ms >= 0


async def test_one_json_log_line_per_request(gql, caplog) -> None:
    from app.logs import JsonFormatter

    caplog.set_level(logging.INFO)
    await gql.raw("query Named { me { email } }", as_user="hr@acme.example", headers={"X-Request-ID": "req-log"})
    (record,) = [r for r in caplog.records if r.name == "hrgraph.access" and r.request_id == "req-log"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-log"
    assert line["operation"] == "Named"
    assert line["status"] == 200
    assert line["path"] == "/graphql"


def test_schema_file_matches_the_served_schema(live_server) -> None:
    committed = (ROOT / "schema.graphql").read_text()
    served = str(live_server.container.schema) + "\n"
    assert committed == served, "schema.graphql is stale: run `python -m app export-schema`"


def test_graphql_config_names_the_schema() -> None:
    config = (ROOT / "graphql.config.yml").read_text()
    assert "schema: schema.graphql" in config


def test_project_packages_are_ours_not_pypis() -> None:
    assert Path(schema.__file__).resolve().is_relative_to(ROOT)
    assert Path(adapters.__file__).resolve().is_relative_to(ROOT)


async def test_an_oversized_body_is_refused_before_it_is_read(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.post("/graphql", content=b"x" * 1_000_001, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert "1000000 bytes" in error["message"]


async def test_production_hides_the_sql_insight(settings, demo) -> None:
    from app.http import create_app
    from app.wiring import Container

    production = settings.model_copy(update={"app_env": "production", "jwt_secret": settings.secret})
    container = Container.build(production, settings.database_url)
    transport = httpx.ASGITransport(app=create_app(container))
    headers = {"Authorization": f"Bearer {demo.token('hr@acme.example')}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        body = (await http.post("/graphql", json={"query": "{ me { email } }"}, headers=headers)).json()
    await container.dispose()
    assert body["data"] == {"me": {"email": "hr@acme.example"}}
    assert "sql" not in (body.get("extensions") or {})

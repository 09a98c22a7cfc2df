"""The Lambda entry: an API Gateway HTTP API (payload v2) event through Mangum into the same
app, on the test database, with production settings."""

from __future__ import annotations

import asyncio
import base64
import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.auth.tokens import TokenSettings, TokenVerifier
from tests.conftest import Demo

SECRET = "lambda-test-secret-0123456789abcdef-xyz"


def v2_event(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """What API Gateway sends for `POST /graphql` (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/graphql",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc.execute-api.eu-west-1.amazonaws.com", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "http": {
                "method": "POST",
                "path": "/graphql",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "30/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1796018400000,
        },
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "isBase64Encoded": True,
    }


async def test_a_v2_event_with_a_token_gets_the_answer(monkeypatch, database_url: str, demo: Demo) -> None:
    from app import lambda_handler

    for name in ("JWKS_URL", "GRAPHIQL", "INTROSPECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("PUBLIC_URL", "https://hr.example.com")  # the local store's links, never followed here
    monkeypatch.setenv("BLOB_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")  # its files' master key (32 bytes)
    monkeypatch.setattr(lambda_handler, "_adapter", None)
    monkeypatch.setattr(lambda_handler, "_container", None)
    token = TokenVerifier(TokenSettings(secret=SECRET)).issue(demo.principal("alice@acme.example"))
    context = SimpleNamespace(function_name="hr-graph", aws_request_id="req-1")

    # A Lambda environment runs its invocations one after another on one thread.
    with ThreadPoolExecutor(max_workers=1) as lambda_thread:
        loop = asyncio.get_running_loop()

        async def invoke(event: dict[str, Any]) -> dict[str, Any]:
            return await loop.run_in_executor(lambda_thread, lambda_handler.handler, event, context)

        query = {"query": "{ me { email company { name } } }"}
        first = await invoke(v2_event(query, {"authorization": f"Bearer {token}"}))
        again = await invoke(v2_event(query, {"authorization": f"Bearer {token}"}))  # warm: same app, same loop
        anonymous = await invoke(v2_event(query, {}))
        lambda_thread.submit(lambda: asyncio.get_event_loop().run_until_complete(_dispose(lambda_handler))).result()

    assert first["statusCode"] == 200
    assert first["headers"]["content-type"].startswith("application/json")
    me = {"email": "alice@acme.example", "company": {"name": "Acme Corp"}}
    assert json.loads(first["body"]) == {"data": {"me": me}}
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert "x-request-id" in first["headers"]
    assert json.loads(anonymous["body"])["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _dispose(lambda_handler: Any) -> None:
    await lambda_handler._container.dispose()


def test_missing_production_settings_are_named(monkeypatch) -> None:
    from app import lambda_handler
    from app.startup import StartupError

    own = ("DATABASE_URL", "JWKS_URL", "JWT_SECRET", "S3_BUCKET", "PUBLIC_URL", "BLOB_SECRET", "BLOB_ENCRYPTION_KEYS")
    for name in own:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setattr(lambda_handler, "_adapter", None)
    with pytest.raises(StartupError, match=r"needs DATABASE_URL, JWKS_URL \(or JWT_SECRET\), PUBLIC_URL"):
        lambda_handler.handler(v2_event({"query": "{ __typename }"}, {}), None)

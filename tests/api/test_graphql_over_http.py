"""GraphQL over HTTP as the spec describes it, checked by graphql-http's own audit (tests/audit/)
against the real app, and the two media types side by side."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parents[1] / "audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _audit(url: str, token: str) -> list[dict[str, str | None]]:
    node = shutil.which("node")
    assert node, "the GraphQL-over-HTTP audit needs Node.js (20 or later) on PATH"
    assert (AUDIT / "node_modules" / "graphql-http").is_dir(), (
        "the audit's packages are missing: run `npm ci` in tests/audit (make test does)"
    )
    env = {**os.environ, "AUDIT_TOKEN": token}
    done = subprocess.run([node, "audit.mjs", url], cwd=AUDIT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_the_graphql_http_audit_passes_every_must_and_should(live_server, demo) -> None:
    # signed in, as a frontend is: anonymous operations are refused before parsing
    results = _audit(f"{live_server.url}/graphql", demo.token("hr@acme.example"))
    failed = [r for r in results if r["status"] != "ok"]
    assert failed == []
    shoulds = [r for r in results if str(r["name"]).startswith("SHOULD")]
    musts = [r for r in results if str(r["name"]).startswith("MUST")]
    assert len(shoulds) == 23 and musts


async def test_graphql_response_json_is_answered_in_kind(gql) -> None:
    accept = {"Accept": GRAPHQL_RESPONSE}
    ok = await gql.raw("{ __typename }", headers=accept)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert ok.json()["data"] == {"__typename": "Query"}

    unparsable = await gql.raw("{ __typename", headers=accept)
    assert unparsable.status_code == 400 and unparsable.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in unparsable.json() and unparsable.json()["errors"]

    invalid = await gql.raw("{ noSuchField }", headers=accept)
    assert invalid.status_code == 400 and "data" not in invalid.json()

    # executed, with a field error: still 200, with data
    executed = await gql.raw('{ document(id: "x") { title } }', headers=accept, as_user="hr@acme.example")
    assert executed.status_code == 200 and "data" in executed.json()


@pytest.mark.parametrize("accept", [None, "application/json"])
async def test_application_json_keeps_todays_behaviour(gql, accept) -> None:
    headers = {"Accept": accept} if accept else {}
    unparsable = await gql.raw("{ __typename", headers=headers)
    assert unparsable.headers["content-type"].startswith("application/json")
    assert unparsable.status_code == 200
    assert unparsable.json()["data"] is None and unparsable.json()["errors"]

"""Trusted documents (app/trusted_documents.py): the manifest of frontend/operations is current,
a known hash is answered without the text over HTTP (POST and GET) and WebSocket (both
protocols), an unknown one is PersistedQueryNotFound, and TRUSTED_DOCUMENTS=log / only treat
documents outside the manifest as they say."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, parse

from app.settings import Settings
from app.trusted_documents import TrustedDocuments
from app.wiring import Container
from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "frontend" / "operations"
MANIFEST = OPERATIONS / "trusted-documents.json"
HR = "hr@acme.example"
ALICE = "alice@acme.example"
UNKNOWN = "query NotInTheManifest { me { email } }"


def _spreads(node: Any) -> Iterator[str]:
    """The fragment names a definition spreads, at any depth of its selections."""
    selection_set = getattr(node, "selection_set", None)
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        yield from _spreads(selection)


def expected_manifest() -> dict[str, str]:
    """What frontend/trusted-documents.mjs writes: each operation, then the fragments it uses
    (transitively, in the file's order), each as the file spells it, joined by a blank line."""
    manifest: dict[str, str] = {}
    for path in sorted(OPERATIONS.glob("*.graphql")):
        source = path.read_text()
        document = parse(source)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        for operation in document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            used: set[str] = set()
            pending = list(_spreads(operation))
            while pending:
                name = pending.pop()
                if name in fragments and name not in used:
                    used.add(name)
                    pending.extend(_spreads(fragments[name]))
            parts = [operation, *(f for name, f in fragments.items() if name in used)]
            text = "\n\n".join(source[p.loc.start : p.loc.end] for p in parts if p.loc is not None)
            manifest[hashlib.sha256(text.encode()).hexdigest()] = text
    return manifest


def test_the_manifest_is_current() -> None:
    committed = json.loads(MANIFEST.read_text())
    assert committed == expected_manifest(), "frontend/operations changed: run `make codegen` and commit the manifest"
    assert len(committed) >= 20


def _hash_of(operation_name: str) -> str:
    for sha, text in json.loads(MANIFEST.read_text()).items():
        if text.startswith(("query ", "mutation ", "subscription ")) and f" {operation_name}" in text.split("{")[0]:
            return str(sha)
    raise AssertionError(operation_name)


def test_a_known_hash_resolves_to_the_same_text_object() -> None:
    """The caches behind (parser, validator, compiled plans: keyed by the text) see one str
    whose hash Python keeps: a known document is parsed, validated and planned once."""
    trusted = TrustedDocuments.load(MANIFEST, "only")
    sha = _hash_of("Viewer")
    first = trusted.resolve({"documentId": sha})
    second = trusted.resolve({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}})
    assert first["query"] is second["query"] is trusted.documents[sha]
    assert "documentId" not in first and second.get("extensions") is None


def _post(http: httpx.AsyncClient, body: dict[str, Any], token: str, **headers: str) -> Any:
    return http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}", **headers})


async def test_a_client_sends_only_the_hash_over_http(gql) -> None:
    token = gql.demo.token(HR)
    viewer = _hash_of("Viewer")
    by_text = (await _post(gql.http, {"query": json.loads(MANIFEST.read_text())[viewer]}, token)).json()
    assert by_text["data"]["me"]["email"] == HR
    for body in (
        {"documentId": viewer},
        {"documentId": f"sha256:{viewer}"},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": viewer}}},
    ):
        answer = await _post(gql.http, body, token)
        assert answer.status_code == 200
        assert answer.json()["data"] == by_text["data"], body
    got = await gql.http.get("/graphql", params={"documentId": viewer}, headers={"Authorization": f"Bearer {token}"})
    assert got.json()["data"] == by_text["data"]
    # the resolver path too: a query the compiled reads decline (People's filter)
    people = (await _post(gql.http, {"documentId": _hash_of("People"), "operationName": "People"}, token)).json()
    assert not people.get("errors") and people["data"]["users"]["edges"]


async def test_an_unknown_hash_is_persisted_query_not_found(gql) -> None:
    token = gql.demo.token(HR)
    sha = hashlib.sha256(UNKNOWN.encode()).hexdigest()
    answer = await _post(gql.http, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}, token)
    assert answer.status_code == 200
    assert answer.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    strict = await _post(gql.http, {"documentId": sha}, token, accept="application/graphql-response+json")
    assert strict.status_code == 400 and "data" not in strict.json()
    # Apollo's second try: the text with its hash (answered: TRUSTED_DOCUMENTS is off here)
    retry = {"query": UNKNOWN, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    assert (await _post(gql.http, retry, token)).json()["data"] == {"me": {"email": HR}}
    wrong = {"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    refused = (await _post(gql.http, wrong, token)).json()
    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH" and "data" not in refused
    assert (await _post(gql.http, {"documentId": 42}, token)).json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_socket_subscribes_by_hash(live_server, demo, protocol) -> None:
    events = _hash_of("AppWorkflowEvents")
    viewer = _hash_of("Viewer")
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    async with await Socket.open(live_server.url, demo.token(HR), protocol=protocol) as socket:
        await socket.acknowledged()
        await socket.send({"id": "v", "type": kind, "payload": {"query": "", "documentId": viewer}})
        _, payload = await socket.next_payload()
        assert payload["data"]["me"]["email"] == HR
        pq = {"persistedQuery": {"version": 1, "sha256Hash": events}}
        await socket.send({"id": "e", "type": kind, "payload": {"query": "", "extensions": pq}})
        unknown = hashlib.sha256(UNKNOWN.encode()).hexdigest()
        await socket.send({"id": "u", "type": kind, "payload": {"query": "", "documentId": unknown}})
        message = await socket.receive()
        while message["type"] == "complete":
            message = await socket.receive()
        assert message["type"] == "error" and message["id"] == "u", message
        errors = message["payload"] if protocol == TRANSPORT_WS else [message["payload"]]
        assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # the subscription by hash is live: a started workflow reaches it
        await _start_workflow(live_server, demo)
        _, event = await socket.next_payload()
        assert event["data"]["workflowStatusChanged"]["kind"] == "WORKFLOW_STARTED"


async def _start_workflow(live_server: LiveServer, demo: Any) -> None:
    import datetime as dt

    from domains.kernel.ids import to_global_id

    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    variables = {
        "input": {
            "template": "EMPLOYEE_ONBOARDING",
            "subjectUserId": to_global_id("User", demo.id(ALICE)),
            "dueDate": due,
        }
    }
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        body = {"documentId": _hash_of("AppStartWorkflow"), "variables": variables}
        started = (await _post(http, body, demo.token(HR))).json()
        assert started["data"]["startWorkflow"]["__typename"] == "WorkflowPayload", started


@pytest.fixture(scope="module")
def only_server(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(Container.build(settings.model_copy(update={"trusted_documents": "only"}), database_url)) as s:
        yield s


@pytest.fixture(scope="module")
def log_server(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(Container.build(settings.model_copy(update={"trusted_documents": "log"}), database_url)) as s:
        yield s


async def test_only_refuses_other_documents_before_anything_runs(only_server, demo) -> None:
    token = demo.token(HR)
    manifest = json.loads(MANIFEST.read_text())
    async with httpx.AsyncClient(base_url=only_server.url, timeout=30) as http:
        assert (await _post(http, {"documentId": _hash_of("Viewer")}, token)).json()["data"]["me"]["email"] == HR
        # the manifest's text in full is trusted too (a client without hashes, GraphiQL pasting it)
        assert (await _post(http, {"query": manifest[_hash_of("Viewer")]}, token)).json()["data"]["me"]
        rename = 'mutation { updateCompany(id: "x", input: { name: "Pwned" }) { __typename } }'
        for body in ({"query": UNKNOWN}, {"query": rename}):
            refused = (await _post(http, body, token)).json()
            assert refused == {
                "errors": [
                    {
                        "message": "this server answers trusted documents only (frontend/operations): "
                        "send a known documentId",
                        "extensions": {"code": "TRUSTED_DOCUMENT_REQUIRED"},
                    }
                ]
            }
        got = await http.get("/graphql", params={"query": UNKNOWN}, headers={"Authorization": f"Bearer {token}"})
        assert got.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    async with demo.container.engine.connect() as conn:
        names = (await conn.execute(sa.text("SELECT name FROM companies"))).scalars().all()
    assert "Pwned" not in names
    async with await Socket.open(only_server.url, token) as socket:
        await socket.acknowledged()
        await socket.start(UNKNOWN, id="x")
        message = await socket.receive()
        assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


async def test_log_answers_other_documents_and_logs_them(log_server, demo, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="hrgraph.trusted_documents")
    token = demo.token(HR)
    async with httpx.AsyncClient(base_url=log_server.url, timeout=30) as http:
        assert (await _post(http, {"query": UNKNOWN}, token)).json()["data"] == {"me": {"email": HR}}
        assert (await _post(http, {"documentId": _hash_of("Viewer")}, token)).json()["data"]["me"]
    logged = [r.getMessage() for r in caplog.records if r.name == "hrgraph.trusted_documents"]
    assert logged == [f"untrusted document: operation None, sha256 {hashlib.sha256(UNKNOWN.encode()).hexdigest()}"]

"""Retention through the real app, a real worker process and the movable clock
(``python -m app clock advance 400d``): an identity card (kept 183 days after its last change)
is deleted, its files gone from the blob store, its personal fields cleared; a colleague's card
under a legal hold, which only HR may set, stays; a contract (no retention) stays; a
soft-deleted document's files and an abandoned upload ticket's object are swept
(``SWEEP_AFTER_DAYS``, 30); each act is an audit entry."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.wiring import Container
from domains.kernel.ids import from_global_id, to_global_id
from tests.api.test_document_analysis import ALICE, HR, REQUEST_UPLOAD, eventually
from tests.api.test_person_data_export import BOB, export_server, gql, worker
from tests.conftest import GraphQLClient, LiveServer
from tests.integration.test_clock import _clock

__all__ = ["export_server", "gql", "worker"]  # fixtures, used by name
pytestmark = pytest.mark.timeout(180)

PDF = b"%PDF-1.4\nretention\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"card" * 100
CONFIRM = "mutation($id: ID!) { confirmDocumentUpload(id: $id) { __typename ... on Error { code } } }"
HOLD = """mutation($id: ID!, $v: Int!, $hold: Boolean) { updateUser(id: $id, input: { legalHold: $hold },
  expectedVersion: $v) { __typename ... on UserPayload { user { legalHold version } } ... on Error { code } } }"""
USER = "query($id: ID!) { user(id: $id) { version legalHold } }"
DELETE = """mutation($id: ID!, $v: Int!) { deleteDocument(id: $id, expectedVersion: $v) {
  __typename ... on Error { code } } }"""
VERSION = "query($id: ID!) { document(id: $id) { version } }"


async def _ticket(gql: GraphQLClient, owner: str, kind: str, name: str, content_type: str, data: bytes) -> str:
    input = {
        "ownerId": to_global_id("User", gql.demo.id(owner)),
        "kind": kind,
        "title": f"{kind} of {owner}",
        "fileName": name,
        "contentType": content_type,
        "sizeBytes": len(data),
    }
    granted = (await gql.data(REQUEST_UPLOAD, {"input": input}, as_user=HR))["requestDocumentUpload"]
    assert granted["__typename"] == "RequestDocumentUploadPayload", granted
    fields = {f["name"]: f["value"] for f in granted["upload"]["fields"]}
    async with httpx.AsyncClient(timeout=30) as outside:
        posted = await outside.post(granted["upload"]["url"], data=fields, files={"file": (name, data, content_type)})
    assert posted.status_code in (200, 201, 204), posted.text
    return str(granted["document"]["id"])


async def _document(gql: GraphQLClient, owner: str, kind: str, name: str, content_type: str, data: bytes) -> str:
    id = await _ticket(gql, owner, kind, name, content_type, data)
    confirmed = (await gql.data(CONFIRM, {"id": id}, as_user=HR))["confirmDocumentUpload"]
    assert confirmed["__typename"] == "DocumentPayload", confirmed
    return id


def _files(root: Path, container: Container, gql: GraphQLClient, owner: str, id: str) -> list[str]:
    company = gql.demo.principal(owner).company_id
    key = from_global_id(id)[1]
    folders = [root / str(company) / str(gql.demo.id(owner)) / str(key)]
    folders.append(root / "uploads" / folders[0].relative_to(root))
    return sorted(str(p) for f in folders if f.is_dir() for p in f.rglob("*") if not p.name.endswith(".json"))


async def _rows(container: Container, sql: str, **params: Any) -> list[Any]:
    async with container.engine.connect() as conn:
        return list((await conn.execute(sa.text(sql), params)).all())


async def test_retention_deletes_what_is_due_but_what_is_held(
    gql: GraphQLClient,
    worker: subprocess.Popen[bytes],
    container: Container,
    database_url: str,
    export_server: LiveServer,
) -> None:
    root = export_server.container.settings.data_dir / "blobs"
    bob = to_global_id("User", gql.demo.id(BOB))
    # only HR sets a legal hold: Bob may edit his own row, not this field
    version = (await gql.data(USER, {"id": bob}, as_user=HR))["user"]["version"]
    refused = (await gql.data(HOLD, {"id": bob, "v": version, "hold": True}, as_user=BOB))["updateUser"]
    assert refused["__typename"] == "ForbiddenError", refused
    held = (await gql.data(HOLD, {"id": bob, "v": version, "hold": True}, as_user=HR))["updateUser"]
    assert held["user"]["legalHold"] is True, held

    card = await _document(gql, ALICE, "ID", "card.png", "image/png", PNG)
    bobs_card = await _document(gql, BOB, "ID", "card.png", "image/png", PNG)
    contract = await _document(gql, ALICE, "CONTRACT", "contract.pdf", "application/pdf", PDF)
    dropped = await _document(gql, ALICE, "OTHER", "note.pdf", "application/pdf", PDF)
    v = (await gql.data(VERSION, {"id": dropped}, as_user=HR))["document"]["version"]
    assert (await gql.data(DELETE, {"id": dropped, "v": v}, as_user=HR))["deleteDocument"]["__typename"] == (
        "DocumentPayload"
    )
    abandoned = await _ticket(gql, ALICE, "OTHER", "never.pdf", "application/pdf", PDF)  # never confirmed
    for id in (card, bobs_card, contract, dropped, abandoned):
        assert _files(root, container, gql, BOB if id == bobs_card else ALICE, id), id
    try:
        _clock(database_url, "advance", "400d")
        card_key = from_global_id(card)[1]

        async def retired() -> bool:
            rows = await _rows(container, "SELECT deleted_at, title FROM documents WHERE id = :id", id=card_key)
            return rows[0].deleted_at is not None

        await eventually(retired, 60, "the retention scan")

        async def swept() -> bool:
            return not _files(root, container, gql, ALICE, dropped) and not _files(
                root, container, gql, ALICE, abandoned
            )

        await eventually(swept, 30, "the sweep of deleted and abandoned files")
        [row] = await _rows(container, "SELECT title, note FROM documents WHERE id = :id", id=card_key)
        assert (row.title, row.note) == ("Deleted under retention", None)
        assert _files(root, container, gql, ALICE, card) == []
        assert _files(root, container, gql, BOB, bobs_card)  # the legal hold stops it
        assert _files(root, container, gql, ALICE, contract)  # contracts have no retention
        kept = await _rows(
            container,
            "SELECT id FROM documents WHERE id = ANY(:ids) AND deleted_at IS NULL",
            ids=[from_global_id(i)[1] for i in (bobs_card, contract)],
        )
        assert len(kept) == 2
        [ticket] = await _rows(
            container, "SELECT pending_expires_at FROM documents WHERE id = :id", id=from_global_id(abandoned)[1]
        )
        assert ticket.pending_expires_at is None
        entries = await _rows(
            container,
            "SELECT action, entity_id, changes FROM audit_entries WHERE action IN ('RetentionApplied', 'FilesSwept')"
            " AND entity_id = ANY(:ids) ORDER BY seq",
            ids=[from_global_id(i)[1] for i in (card, bobs_card, contract, dropped, abandoned)],
        )
        assert {(e.action, str(e.entity_id)) for e in entries} == {
            ("RetentionApplied", str(card_key)),
            ("FilesSwept", str(from_global_id(dropped)[1])),
            ("FilesSwept", str(from_global_id(abandoned)[1])),
        }
        assert len(entries) == 3  # once each: a later round finds nothing left to record
    finally:
        _clock(database_url, "reset")
        version = (await gql.data(USER, {"id": bob}, as_user=HR))["user"]["version"]
        await gql.data(HOLD, {"id": bob, "v": version, "hold": None}, as_user=HR)

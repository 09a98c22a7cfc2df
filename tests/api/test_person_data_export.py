"""exportPersonData through the real app and a real worker process (``python -m app worker``)
on the local blob store: HR asks, the worker assembles the archive, the export turns READY with
a short-lived signed link; the archive holds the profile, the documents with each file's
decrypted bytes, the workflows with their steps and the audit entries about the person; the
export is an ``ExportIssued`` audit entry. An employee, another company's HR and bad ids get
typed errors and change nothing."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.wiring import Container
from domains.kernel.ids import from_global_id, to_global_id
from tests.api.test_document_analysis import ALICE, HR, ROOT, eventually, upload
from tests.blob_servers import serve
from tests.conftest import Demo, GraphQLClient, LiveServer

BOB, GLOBEX_HR = "bob@acme.example", "hr@globex.example"
pytestmark = pytest.mark.timeout(180)

EXPORT = """fragment E on PersonDataExport { id status subjectId requestedBy files sizeBytes downloadUrl
  linkExpiresAt readyAt }"""
RESULT = """__typename ... on PersonDataExportPayload { personDataExport { ...E } }
  ... on Error { code message } ... on ValidationError { fields { path message } }"""
ASK = f"mutation($user: ID!) {{ exportPersonData(userId: $user) {{ {RESULT} }} }} {EXPORT}"
READ = f"query($id: ID!) {{ personDataExport(id: $id) {{ ...E }} }} {EXPORT}"


@pytest.fixture(scope="module")
def export_server(settings: Any, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    chosen = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data"), "jwt_secret": settings.secret})
    with serve(chosen, database_url) as server:
        yield server


@pytest.fixture
async def gql(export_server: LiveServer, demo: Demo) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=export_server.url, timeout=30) as http:
        yield GraphQLClient(http, demo)


@pytest.fixture
async def worker(
    export_server: LiveServer, container: Container, database_url: str, tmp_path: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """One worker on the server's blob folder, signing its links as the server does."""
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE"))
        await conn.execute(
            sa.text(
                "INSERT INTO relay_cursors (consumer, last_event_id) SELECT c, coalesce(max(e.id), 0)"
                " FROM unnest(ARRAY['webhooks', 'mail', 'notifications', 'analysis', 'exports']) AS c"
                " LEFT JOIN events e ON true GROUP BY c"
                " ON CONFLICT (consumer) DO UPDATE SET last_event_id = excluded.last_event_id"
            )
        )
    settings = export_server.container.settings
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--name", "exports"],
            cwd=ROOT,
            env={
                **os.environ,
                "APP_ENV": "test",
                "DATABASE_URL": database_url,
                "DATA_DIR": str(settings.data_dir),
                "PUBLIC_URL": export_server.url,
                "JWT_SECRET": str(settings.jwt_secret),
                "ANALYZER": "off",
                "RELAY_POLL_SECONDS": "0.2",
                "REMINDER_SCAN_SECONDS": "0.5",
                "REMINDER_DAYS_BEFORE": "[]",
                "DATABASE_POOL_SIZE": "2",
                "WORKER_CONCURRENCY": "2",
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.returncode not in (0, -signal.SIGTERM):
            print(log_path.read_text())


async def _count(container: Container, sql: str, **params: Any) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql), params)).scalar_one())


async def test_refusals_are_typed_and_change_nothing(gql: GraphQLClient, container: Container) -> None:
    alice, bob = (to_global_id("User", gql.demo.id(e)) for e in (ALICE, BOB))
    before = await _count(container, "SELECT count(*) FROM person_data_exports")
    cases = [
        (ALICE, bob, "ForbiddenError"),  # an employee exports nobody, not even a colleague
        (ALICE, alice, "ForbiddenError"),  # nor herself: HR answers her request
        (GLOBEX_HR, alice, "NotFoundError"),  # another company's person does not exist for them
        (HR, to_global_id("User", gql.demo.id(GLOBEX_HR)), "NotFoundError"),
        (HR, "not-an-id", "ValidationError"),
        (HR, to_global_id("Document", gql.demo.id(ALICE)), "ValidationError"),  # an id of another type
    ]
    for as_user, user, expected in cases:
        answer = (await gql.data(ASK, {"user": user}, as_user=as_user))["exportPersonData"]
        assert answer["__typename"] == expected, (as_user, user, answer)
    assert await _count(container, "SELECT count(*) FROM person_data_exports") == before
    assert await _count(container, "SELECT count(*) FROM events WHERE type = 'PersonDataExportRequested'") == 0


async def test_hr_exports_everything_held_about_a_person_into_one_archive(
    gql: GraphQLClient, worker: subprocess.Popen[bytes], container: Container
) -> None:
    contract = b"%PDF-1.4\n" + os.urandom(2000) + b"\n%%EOF"
    card = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    contract_id = await upload(gql, "CONTRACT", "Employment contract", "contract.pdf", "application/pdf", contract)
    card_id = await upload(gql, "ID", "Identity card", "card scan.png", "image/png", card)
    alice = gql.demo.id(ALICE)

    asked = await gql(ASK, {"user": to_global_id("User", alice)}, as_user=HR)
    export = asked["data"]["exportPersonData"]["personDataExport"]
    assert export["status"] == "PENDING" and export["downloadUrl"] is None, export
    # the token's user, the person's company, the export's INSERT; the outbox's lock, the event,
    # NOTIFY; the audit head locked, the entry appended
    assert asked["extensions"]["sql"]["statements"] == 8, asked["extensions"]

    # only HR and ADMIN read exports: the employee may not, not even one about her
    refused = await gql(READ, {"id": export["id"]}, as_user=ALICE)
    assert refused["data"]["personDataExport"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert (await gql.data(READ, {"id": export["id"]}, as_user=GLOBEX_HR))["personDataExport"] is None

    async def ready() -> dict[str, Any] | None:
        read: dict[str, Any] = (await gql.data(READ, {"id": export["id"]}, as_user=HR))["personDataExport"]
        return read if read["status"] == "READY" else None

    done = await eventually(ready, 60, "the export's archive")
    assert done["files"] == 2 and done["downloadUrl"] and done["linkExpiresAt"] > done["readyAt"]

    async with httpx.AsyncClient(timeout=30) as outside:
        fetched = await outside.get(done["downloadUrl"])
        assert fetched.status_code == 200, fetched.text
        assert fetched.headers["content-type"].startswith("application/zip")
        tampered = await outside.get(done["downloadUrl"].replace("expires=", "expires=9"))
        assert tampered.status_code == 403
    assert len(fetched.content) == done["sizeBytes"]
    archive = zipfile.ZipFile(io.BytesIO(fetched.content))
    names = set(archive.namelist())
    assert {"person.json", "documents.json", "workflows.json", "audit.json"} <= names

    person = json.loads(archive.read("person.json"))
    assert person["email"] == ALICE and person["id"] == str(alice)
    documents = {d["id"]: d for d in json.loads(archive.read("documents.json"))}
    contract_key, card_key = (str(from_global_id(i)[1]) for i in (contract_id, card_id))
    assert {contract_key, card_key} <= set(documents)
    assert all(d["owner_id"] == str(alice) for d in documents.values())
    # each file version's bytes, decrypted (the local store keeps them encrypted at rest)
    for key, data, name in ((contract_key, contract, "contract.pdf"), (card_key, card, "card_scan.png")):
        [version] = documents[key]["versions"]
        assert version["archived"] is True and version["entry"] == f"files/{key}/1-{name}"
        assert archive.read(version["entry"]) == data
    workflows = json.loads(archive.read("workflows.json"))
    assert [w["title"] for w in workflows] == ["Alice's onboarding"]
    assert all(w["subject_id"] == str(alice) for w in workflows)
    assert isinstance(workflows[0]["steps"], list)
    audit = json.loads(archive.read("audit.json"))
    assert {a["entity_id"] for a in audit if a["entity"] == "Document"} >= {contract_key, card_key}
    assert all(a["subject_id"] == str(alice) or a["entity_id"] == str(alice) for a in audit)

    # the export itself is in the audit trail, once, about Alice and on behalf of HR
    export_key = str(from_global_id(export["id"])[1])
    async with container.engine.connect() as conn:
        issued = (
            await conn.execute(
                sa.text(
                    "SELECT subject_id, on_behalf_of, entity FROM audit_entries WHERE action = 'ExportIssued'"
                    " AND entity_id = :id"
                ),
                {"id": export_key},
            )
        ).all()
    assert [(str(r.subject_id), str(r.on_behalf_of), r.entity) for r in issued] == [
        (str(alice), str(gql.demo.id(HR)), "PersonDataExport")
    ]

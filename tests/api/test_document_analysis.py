"""Documents that read themselves (issue 19), through the real app and a real worker process
(``python -m app worker``) with the embedded analyzer: a PDF contract, a PNG identity card with
an expiry date and a tax form declared as a contract are uploaded as a frontend does; the
worker's analyses give the right kinds, the card's expiry date and a mismatch warning on the
third, without moving any status; HR accepts the expiry; moving the clock past it
(``python -m app clock advance``) expires the card and requests its renewal."""

from __future__ import annotations

import asyncio
import io
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.wiring import Container
from bench.analysis_dataset import image, text_pdf
from domains.kernel.ids import from_global_id, to_global_id
from tests.blob_servers import serve
from tests.conftest import Demo, GraphQLClient, LiveServer
from tests.integration.test_clock import _clock

ROOT = Path(__file__).resolve().parents[2]
HR, ALICE = "hr@acme.example", "alice@acme.example"
pytestmark = pytest.mark.timeout(240)

DOCUMENT = "id version status kind expiresOn renewsId ownerId"
RESULT = f"""__typename ... on DocumentPayload {{ document {{ {DOCUMENT} }} }} ... on Error {{ code message }}
  ... on ValidationError {{ fields {{ path message }} }}"""
REQUEST_UPLOAD = """mutation($input: RequestDocumentUploadInput!) { requestDocumentUpload(input: $input) {
  __typename ... on RequestDocumentUploadPayload { document { id } upload { url fields { name value } } }
  ... on Error { code message } } }"""
CONFIRM = f"mutation($id: ID!) {{ confirmDocumentUpload(id: $id) {{ {RESULT} }} }}"
ACCEPT = f"""mutation($id: ID!, $field: ExtractedFieldName!, $v: Int!) {{
  acceptDocumentExtraction(id: $id, version: 1, field: $field, expectedVersion: $v) {{ {RESULT} }} }}"""
READ = f"""query($id: ID!) {{ document(id: $id) {{ {DOCUMENT}
  versions {{ version analysis {{ analyzer predictedKind confidence warnings text
    fields {{ name value confidence accepted }} }} }} }} }}"""
RENEWALS = f"""query($id: ID!) {{ documents(filter: {{ renewsId: {{ eq: $id }} }}) {{
  edges {{ node {{ {DOCUMENT} }} }} }} }}"""
EXPIRING = (
    f"""query($d: Date!) {{ documentsExpiringBefore(date: $d) {{ totalCount edges {{ node {{ {DOCUMENT} }} }} }} }}"""
)
MINE = "{ documents(first: 50) { edges { node { id status kind renewsId } } } }"

CONTRACT_TEXT = [
    "EMPLOYMENT CONTRACT",
    "This agreement is entered into by Acme Corp (the Employer)",
    "Employee: Alice Martin",
    "Start date 2026-01-05. Position: Analyst. Probation: 6 months.",
    "Salary: 52,000 per year, paid monthly. Working hours: 40 per week.",
    "Either party may end this contract with one month's written notice.",
    "Signed by the Employer and the Employee",
]
TAX_TEXT = [
    "Form W-4 Employee's Withholding Certificate",
    "Tax year 2026. Internal revenue office.",
    "Name of taxpayer: Alice Martin",
    "Taxpayer identification number 123-45-6789",
    "Filing status: single. Allowances claimed: 2. Extra withholding: 0.",
    "Under penalties of perjury, I declare this certificate is correct.",
]


def card(expires: date) -> bytes:
    lines = [
        "IDENTITY CARD",
        "Name: Alice Martin",
        "Document No: X1234567",
        "Date of birth: 1990-04-12",
        f"Expiry date: {expires.isoformat()}",
    ]
    buffer = io.BytesIO()
    image(lines, random.Random(1), photo=False, size=34).save(buffer, "PNG")  # type: ignore[attr-defined]
    return buffer.getvalue()


@pytest.fixture(scope="module")
def analysis_server(settings: Any, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    chosen = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data"), "jwt_secret": settings.secret})
    with serve(chosen, database_url) as server:
        yield server


@pytest.fixture
async def gql(analysis_server: LiveServer, demo: Demo) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=analysis_server.url, timeout=30) as http:
        yield GraphQLClient(http, demo)


@pytest.fixture
async def worker(
    analysis_server: LiveServer, container: Container, demo: Demo, database_url: str, tmp_path: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """One worker on the server's blob folder; the relay starts at the newest event."""
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE"))
        await conn.execute(
            sa.text(
                "INSERT INTO relay_cursors (consumer, last_event_id) SELECT c, coalesce(max(e.id), 0)"
                " FROM unnest(ARRAY['webhooks', 'mail', 'analysis']) AS c LEFT JOIN events e ON true GROUP BY c"
                " ON CONFLICT (consumer) DO UPDATE SET last_event_id = excluded.last_event_id"
            )
        )
    shutil.rmtree(analysis_server.container.settings.data_dir / "mail", ignore_errors=True)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--name", "analysis"],
            cwd=ROOT,
            env={
                **os.environ,
                "APP_ENV": "test",
                "DATABASE_URL": database_url,
                "DATA_DIR": str(analysis_server.container.settings.data_dir),
                "RELAY_POLL_SECONDS": "0.2",
                "REMINDER_SCAN_SECONDS": "0.5",
                "REMINDER_DAYS_BEFORE": "[]",
                "DATABASE_POOL_SIZE": "2",
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


async def upload(gql: GraphQLClient, kind: str, title: str, name: str, content_type: str, data: bytes) -> str:
    input = {
        "ownerId": to_global_id("User", gql.demo.id(ALICE)),
        "kind": kind,
        "title": title,
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
    confirmed = (await gql.data(CONFIRM, {"id": granted["document"]["id"]}, as_user=HR))["confirmDocumentUpload"]
    assert confirmed["document"]["status"] == "UPLOADED", confirmed
    return str(granted["document"]["id"])


async def eventually(check: Any, timeout: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def test_uploads_are_read_advised_accepted_and_expire_into_a_renewal(
    gql: GraphQLClient,
    worker: subprocess.Popen[bytes],
    container: Container,
    database_url: str,
    analysis_server: LiveServer,
) -> None:
    mail_folder = analysis_server.container.settings.data_dir
    expires = datetime.now(UTC).date() + timedelta(days=30)
    contract = await upload(
        gql, "CONTRACT", "Employment contract", "contract.pdf", "application/pdf", text_pdf(CONTRACT_TEXT)
    )
    identity = await upload(gql, "ID", "Identity card", "card.png", "image/png", card(expires))
    tax = await upload(gql, "CONTRACT", "Signed contract", "signed.pdf", "application/pdf", text_pdf(TAX_TEXT))

    async def analysed() -> dict[str, Any] | None:
        read = {}
        for id in (contract, identity, tax):
            document = (await gql.data(READ, {"id": id}, as_user=HR))["document"]
            if document["versions"][0]["analysis"] is None:
                return None
            read[id] = document
        return read

    read = await eventually(analysed, 150, "the three analyses")
    analyses = {id: read[id]["versions"][0]["analysis"] for id in read}
    assert {id: a["predictedKind"] for id, a in analyses.items()} == {
        contract: "CONTRACT",
        identity: "ID",
        tax: "TAX_FORM",
    }
    assert all(a["analyzer"] == "embedded" for a in analyses.values())
    card_fields = {f["name"]: f for f in analyses[identity]["fields"]}
    assert card_fields["EXPIRY_DATE"]["value"] == expires.isoformat()
    assert card_fields["DOCUMENT_NUMBER"]["value"] == "X1234567"
    assert card_fields["PERSON_NAME"]["value"].replace(" ", "").lower() == "alicemartin"
    mismatch = [w for w in analyses[tax]["warnings"] if w.startswith("declared CONTRACT, reads like a TAX_FORM (")]
    assert mismatch, analyses[tax]["warnings"]
    for id in (contract, identity):
        assert not [w for w in analyses[id]["warnings"] if w.startswith("declared")], analyses[id]["warnings"]
        assert "the name does not match the owner" not in analyses[id]["warnings"]
    assert {d["status"] for d in read.values()} == {"UPLOADED"}  # advice only: no status moved

    # only HR accepts; the employee's try changes nothing
    card_doc = read[identity]
    refused = await gql.data(ACCEPT, {"id": identity, "field": "EXPIRY_DATE", "v": card_doc["version"]}, as_user=ALICE)
    assert refused["acceptDocumentExtraction"]["__typename"] == "ForbiddenError", refused
    accepted = await gql(ACCEPT, {"id": identity, "field": "EXPIRY_DATE", "v": card_doc["version"]}, as_user=HR)
    # the user, the document, its file version, the document's UPDATE, the analysis' UPDATE; the
    # audit head locked, the entry appended
    assert accepted["extensions"]["sql"]["statements"] == 7, accepted["extensions"]
    document = accepted["data"]["acceptDocumentExtraction"]["document"]
    assert document["expiresOn"] == expires.isoformat() and document["status"] == "UPLOADED"
    reread = await gql(READ, {"id": identity}, as_user=HR)
    assert reread["extensions"]["sql"]["statements"] == 3, reread["extensions"]  # the user, the document, its files
    again = reread["data"]["document"]["versions"][0]["analysis"]
    assert [f["accepted"] for f in again["fields"] if f["name"] == "EXPIRY_DATE"] == [True]
    # the expiry is 30 days away: the owner and HR are reminded now (EXPIRY_REMINDER_DAYS_BEFORE 30, 7)
    folder = mail_folder / "mail"

    async def reminded() -> dict[str, str] | None:
        mails = {}
        for path in folder.glob("*.eml") if folder.exists() else []:
            parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            mails[str(parsed["To"])] = str(parsed["Subject"])
        return mails if len(mails) >= 2 else None

    assert await eventually(reminded, 30, "the expiry reminders") == {
        ALICE: "A document expires in 30 days",
        HR: "A document expires in 30 days",
    }
    expiring = await gql.data(EXPIRING, {"d": (expires + timedelta(days=1)).isoformat()}, as_user=HR)
    assert [e["node"]["id"] for e in expiring["documentsExpiringBefore"]["edges"]] == [identity]
    assert (await gql.data(EXPIRING, {"d": expires.isoformat()}, as_user=HR))["documentsExpiringBefore"][
        "totalCount"
    ] == 0

    try:
        _clock(database_url, "advance", "31d")

        async def expired() -> dict[str, Any] | None:
            now = (await gql.data(READ, {"id": identity}, as_user=HR))["document"]
            return now if now["status"] == "EXPIRED" else None

        await eventually(expired, 60, "the card to expire")
        renewals = (await gql.data(RENEWALS, {"id": identity}, as_user=HR))["documents"]["edges"]
        assert [(r["node"]["status"], r["node"]["kind"], r["node"]["ownerId"]) for r in renewals] == [
            ("REQUESTED", "ID", to_global_id("User", gql.demo.id(ALICE)))
        ]
        inbox = {e["node"]["id"]: e["node"] for e in (await gql.data(MINE, as_user=ALICE))["documents"]["edges"]}
        assert inbox[identity]["status"] == "EXPIRED"
        assert inbox[renewals[0]["node"]["id"]]["renewsId"] == identity
        for id in (contract, tax):  # no expiry date: nothing moved
            assert (await gql.data(READ, {"id": id}, as_user=HR))["document"]["status"] == "UPLOADED"
        async with container.engine.connect() as conn:
            types = (
                (
                    await conn.execute(
                        sa.text("SELECT type FROM events WHERE aggregate_id = :id ORDER BY id"),
                        {"id": from_global_id(identity)[1]},
                    )
                )
                .scalars()
                .all()
            )
        assert types == ["DocumentUploaded", "DocumentExpired"]
    finally:
        _clock(database_url, "reset")

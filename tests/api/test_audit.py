"""The audit trail through the real app: what a generic update, a command and a download link
record, who reads which entries, the append-only table and the hash chain's verification."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from app.wiring import Container
from tests.api.test_documents import ADMIN, ALICE, APPROVE, BOB, GLOBEX_HR, HR, UPDATE, Api
from tests.blob_servers import serve
from tests.conftest import Demo, GraphQLClient, LiveServer

ROOT = Path(__file__).resolve().parents[2]
TRAIL = """query($filter: AuditTrailFilter, $first: Int, $after: String) {
  auditTrail(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { seq action entity entityId actorId actorRole onBehalfOfId personId companyId
      requestId clientAddress changes { field old new secret } } } } }"""


@pytest.fixture(scope="module")
def local_server(settings, database_url, tmp_path_factory) -> Iterator[LiveServer]:
    chosen = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data"), "jwt_secret": settings.secret})
    with serve(chosen, database_url) as server:
        yield server


@pytest.fixture
async def api(local_server: LiveServer, demo: Demo, container: Container) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=local_server.url, timeout=30) as http:
        yield Api("local", container, GraphQLClient(http, demo), http)


async def trail(api: Api, as_user: str, **filter: Any) -> list[dict[str, Any]]:
    data = await api.gql.data(TRAIL, {"filter": filter or None, "first": 100}, as_user=as_user)
    return [e["node"] for e in data["auditTrail"]["edges"]]


def changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (json.loads(c["old"]), json.loads(c["new"])) for c in entry["changes"]}


async def test_a_generic_update_records_who_what_old_and_new_values_and_from_where(api: Api) -> None:
    document = await api.uploaded()
    variables = {"id": document["id"], "input": {"title": "Signed"}, "v": document["version"]}
    response = await api.gql.http.post(
        "/graphql",
        json={"query": UPDATE, "variables": variables},
        headers={"Authorization": f"Bearer {api.gql.demo.token(HR)}", "X-Request-Id": "audit-test-1"},
    )
    assert response.json()["data"]["updateDocument"]["__typename"] == "DocumentPayload", response.text
    found = await trail(api, HR, entityId=document["id"])
    entry = found[0]  # newest first
    assert entry["action"] == "update"
    assert changes(entry) == {"title": ("Offer letter", "Signed")}
    assert entry["entity"] == "Document" and entry["actorRole"] == "HR"
    assert entry["actorId"] == api.user_id(HR) and entry["personId"] == api.user_id(ALICE)
    assert entry["requestId"] == "audit-test-1" and entry["clientAddress"] == "127.0.0.1"
    # the document's earlier life is there too: its creation, and its upload as the event of
    # the command that confirmed it, with the fields it moved
    actions = [e["action"] for e in found]
    assert actions[-1] == "create" and changes(found[-1])["title"] == (None, "Offer letter")
    (uploaded,) = [e for e in found if e["action"] == "DocumentUploaded"]
    assert changes(uploaded)["status"] == ("REQUESTED", "UPLOADED") and uploaded["actorRole"] == "EMPLOYEE"


async def test_a_command_records_its_event_and_the_fields_it_moved(api: Api) -> None:
    document = await api.in_review()
    approved = await api.gql.data(APPROVE, {"id": document["id"], "v": document["version"]}, as_user=HR)
    assert approved["approveDocument"]["__typename"] == "DocumentPayload"
    entries = await trail(api, HR, entityId=document["id"], action="DocumentApproved")
    assert len(entries) == 1 and changes(entries[0])["status"] == ("IN_REVIEW", "APPROVED")
    # the workflow step a reaction moved is recorded in the same transaction (none here: no workflow)
    submitted = await trail(api, ADMIN, entityId=document["id"], action="DocumentSubmitted")
    assert submitted[0]["actorRole"] == "EMPLOYEE" and submitted[0]["actorId"] == api.user_id(ALICE)


async def test_a_download_link_is_recorded_and_its_owner_sees_it_no_one_else(api: Api) -> None:
    document = await api.uploaded()
    read = await api.read(document["id"], as_user=HR)
    assert read is not None and read["downloadUrl"]
    downloads = await trail(api, HR, entityId=document["id"], action="DownloadLinkIssued")
    assert downloads and downloads[0]["actorId"] == api.user_id(HR)
    assert downloads[0]["personId"] == api.user_id(ALICE)
    # Alice sees the links issued for her documents, and nothing else of the trail
    hers = await trail(api, ALICE)
    assert hers and {e["action"] for e in hers} == {"DownloadLinkIssued"}
    assert {e["personId"] for e in hers} == {api.user_id(ALICE)}
    # Bob sees none of them, even when he asks for Alice's by name
    assert await trail(api, BOB, personId=api.user_id(ALICE)) == []
    assert await trail(api, BOB, entityId=document["id"]) == []
    # another company's HR sees nothing of Acme; ADMIN sees it
    assert await trail(api, GLOBEX_HR, entityId=document["id"]) == []
    assert await trail(api, ADMIN, entityId=document["id"], action="DownloadLinkIssued")


async def test_hr_filters_by_person_entity_action_and_time_and_pages(api: Api) -> None:
    await api.uploaded()
    granted = await api.ticket(BOB, ownerId=api.user_id(BOB))
    assert granted["document"]["id"]
    about_bob = await trail(api, HR, personId=api.user_id(BOB))
    assert about_bob and {e["personId"] for e in about_bob} == {api.user_id(BOB)}
    users = await trail(api, HR, entity="User")
    assert all(e["entity"] == "User" for e in users)
    future = await trail(api, HR, since="2999-01-01T00:00:00Z")
    assert future == []
    first = await api.gql.data(TRAIL, {"first": 2}, as_user=HR)
    page = first["auditTrail"]
    assert page["pageInfo"]["hasNextPage"] is True
    second = await api.gql.data(TRAIL, {"first": 2, "after": page["pageInfo"]["endCursor"]}, as_user=HR)
    seqs = [e["node"]["seq"] for e in page["edges"]] + [e["node"]["seq"] for e in second["auditTrail"]["edges"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4
    bad = await api.gql(TRAIL, {"after": "nonsense"}, as_user=HR)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID", bad


async def test_the_statements_of_a_generic_update_and_of_a_command(api: Api) -> None:
    document = await api.in_review()
    variables = {"id": document["id"], "input": {"note": "checked"}, "v": document["version"]}
    body = await api.gql(UPDATE, variables, as_user=HR)
    assert body["data"]["updateDocument"]["__typename"] == "DocumentPayload", body
    # the token's user, the document, its company and owner (the references checked), the
    # UPDATE (which returns the row as it was), the audit chain's head locked, the entry
    # appended with the head moved
    assert body["extensions"]["sql"]["statements"] == 7
    variables = {"id": document["id"], "v": document["version"] + 1}
    body = await api.gql(APPROVE, variables, as_user=HR)
    assert body["data"]["approveDocument"]["__typename"] == "DocumentPayload", body
    # the token's user, the document, its UPDATE; the outbox's lock, the event, the step the
    # reaction looks for (none), NOTIFY; the audit head locked, the entry appended
    assert body["extensions"]["sql"]["statements"] == 9


def verify_cli(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "audit", "verify"],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "test", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _dsn(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_the_trail_is_append_only_and_verify_finds_a_tampered_entry(api: Api, database_url: str) -> None:
    await api.uploaded()
    intact = verify_cli(database_url)
    assert intact.returncode == 0, intact.stderr
    assert "audit trail intact" in intact.stdout
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        victim = await conn.fetchrow("SELECT seq, action FROM audit_entries ORDER BY seq DESC OFFSET 2 LIMIT 1")
        for refused in (
            "UPDATE audit_entries SET action = 'nothing' WHERE seq = $1",
            "DELETE FROM audit_entries WHERE seq = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(refused, victim["seq"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("TRUNCATE audit_entries")
        # a superuser can switch the triggers off and rewrite history...
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE audit_entries SET action = 'nothing' WHERE seq = $1", victim["seq"])
        broken = verify_cli(database_url)
        # ... and verify names the entry
        assert broken.returncode == 1, broken.stdout
        assert f"broken at entry {victim['seq']}: its hash does not match its content" in broken.stderr
        await conn.execute("UPDATE audit_entries SET action = $2 WHERE seq = $1", victim["seq"], victim["action"])
        assert verify_cli(database_url).returncode == 0
    finally:
        await conn.execute("SET session_replication_role = origin")
        await conn.close()


async def test_a_webhook_endpoint_is_recorded_without_its_secret(api: Api) -> None:
    from tests.api.test_webhooks import DISABLE, GOOD, REGISTER

    registered = (await api.gql.data(REGISTER, {"input": GOOD}, as_user=HR))["registerWebhookEndpoint"]
    endpoint_id = registered["endpoint"]["id"]
    disabled = await api.gql.data(DISABLE, {"id": endpoint_id}, as_user=HR)
    assert disabled["disableWebhookEndpoint"]["endpoint"]["enabled"] is False
    entries = await trail(api, HR, entity="WebhookEndpoint", entityId=endpoint_id)
    assert [e["action"] for e in entries] == ["WebhookEndpointDisabled", "WebhookEndpointRegistered"]
    registered_entry = {c["field"]: c for c in entries[1]["changes"]}
    assert registered_entry["secret"] == {"field": "secret", "old": None, "new": None, "secret": True}
    assert json.loads(registered_entry["url"]["new"]) == GOOD["url"]
    assert registered["secret"] not in json.dumps(entries)
    assert changes(entries[0]) == {"enabled": (True, False)}


async def test_concurrent_writers_keep_one_unbroken_chain(api: Api, database_url: str) -> None:
    """Twelve updates at once, each its own transaction: the head row serialises their appends."""
    documents = [(await api.ticket())["document"] for _ in range(12)]

    async def rename(document: dict[str, Any]) -> str:
        variables = {"id": document["id"], "input": {"note": "renamed at once"}, "v": document["version"]}
        body = await api.gql(UPDATE, variables, as_user=HR)
        return str(body["data"]["updateDocument"]["__typename"])

    assert await asyncio.gather(*map(rename, documents)) == ["DocumentPayload"] * 12
    async with api.container.engine.connect() as conn:
        seqs = [r.seq for r in await conn.execute(sa.text("SELECT seq FROM audit_entries ORDER BY seq"))]
        renamed = "SELECT count(*) FROM audit_entries WHERE action = 'update' AND changes LIKE '%renamed at once%'"
        notes = (await conn.execute(sa.text(renamed))).scalar_one()
    assert seqs == list(range(1, len(seqs) + 1)) and notes == 12
    verified = verify_cli(database_url)
    assert verified.returncode == 0, verified.stderr

"""Documents over HTTP, as a frontend uses them, against each blob store: the local store the
app serves, and S3 (moto's standalone server). Real PostgreSQL, the real app under uvicorn."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from app.wiring import Container
from domains.document.model import upload_key
from domains.document.ports import UploadPolicy
from domains.kernel.ids import from_global_id, to_global_id
from tests.blob_servers import S3Endpoint, s3_endpoint, serve
from tests.conftest import Demo, GraphQLClient, LiveServer

__all__ = ["s3_endpoint"]  # a fixture, used by name

HR, ALICE, BOB, ADMIN, GLOBEX_HR = (
    "hr@acme.example",
    "alice@acme.example",
    "bob@acme.example",
    "admin@acme.example",
    "hr@globex.example",
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\r\ntrailer << >>\n%%EOF\n"
POLYGLOT = (b"%PDF-1.7\n<html><script>fetch('/graphql')</script></html>\n%%EOF\n").ljust(len(PDF), b" ")

DOCUMENT_FIELDS = "id version status fileVersion availableTransitions"
RESULT = f"""__typename
  ... on DocumentPayload {{ document {{ {DOCUMENT_FIELDS} }} }}
  ... on Error {{ code message }}
  ... on ValidationError {{ fields {{ path message }} }}
  ... on ConflictError {{ currentVersion }}
  ... on InvalidTransitionError {{ current target from to }}"""
REQUEST_UPLOAD = f"""mutation($input: RequestDocumentUploadInput!) {{ requestDocumentUpload(input: $input) {{
  __typename
  ... on RequestDocumentUploadPayload {{
    document {{ {DOCUMENT_FIELDS} }}
    upload {{ url method expiresAt fields {{ name value }} }} }}
  ... on Error {{ code message }}
  ... on ValidationError {{ fields {{ path message }} }}
  ... on InvalidTransitionError {{ current target }} }} }}"""
CONFIRM = f"mutation($id: ID!) {{ confirmDocumentUpload(id: $id) {{ {RESULT} }} }}"
SUBMIT = f"mutation($id: ID!, $v: Int!) {{ submitDocumentForReview(id: $id, expectedVersion: $v) {{ {RESULT} }} }}"
APPROVE = f"mutation($id: ID!, $v: Int!) {{ approveDocument(id: $id, expectedVersion: $v) {{ {RESULT} }} }}"
REJECT = f"""mutation($id: ID!, $v: Int!, $reason: String!) {{
  rejectDocument(id: $id, reason: $reason, expectedVersion: $v) {{ {RESULT} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateDocumentInput!, $v: Int!) {{
  updateDocument(id: $id, input: $input, expectedVersion: $v) {{ {RESULT} }} }}"""
READ = """query($id: ID!) { document(id: $id) {
  status version downloadUrl availableTransitions
  versions { version fileName contentType sizeBytes checksum uploadedAt uploadedBy } } }"""


@pytest.fixture(scope="module", params=["local", "s3"])
def store_server(request, settings, database_url, tmp_path_factory) -> Iterator[tuple[str, LiveServer]]:
    """The app with one blob store or the other; every test here runs against both."""
    # its own blob folder, the same token secret as the tokens the tests mint
    chosen = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data"), "jwt_secret": settings.secret})
    if request.param == "s3":
        endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
        chosen = endpoint.settings(chosen)
    with serve(chosen, database_url) as server:
        yield request.param, server


@pytest.fixture
async def api(store_server, demo: Demo, container: Container) -> AsyncIterator[Api]:
    store, server = store_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        api = Api(store, container, GraphQLClient(http, demo), http)
        api.bucket = server.container.settings.s3_bucket
        api.server_blobs = server.container.blobs
        yield api


class Api:
    """``container`` is the test loop's own (the server's engine lives on the server's loop)."""

    def __init__(self, store: str, container: Container, gql: GraphQLClient, http: httpx.AsyncClient) -> None:
        self.store, self.container, self.gql, self.http = store, container, gql, http
        self.bucket: str | None = None
        self.server_blobs: Any = None

    def user_id(self, email: str) -> str:
        return to_global_id("User", self.gql.demo.id(email))

    async def ticket(
        self, as_user: str = ALICE, data: bytes = PDF, content_type: str = "application/pdf", **input: Any
    ) -> dict[str, Any]:
        input = {"fileName": "offer letter.pdf", "contentType": content_type, "sizeBytes": len(data), **input}
        if "documentId" not in input:
            input = {"ownerId": self.user_id(ALICE), "kind": "CONTRACT", "title": "Offer letter", **input}
        result = (await self.gql.data(REQUEST_UPLOAD, {"input": input}, as_user=as_user))["requestDocumentUpload"]
        assert result["__typename"] == "RequestDocumentUploadPayload", result
        return result

    async def post(
        self, upload: dict[str, Any], data: bytes, content_type: str = "application/pdf", **overrides: str
    ) -> httpx.Response:
        """What a browser does with a ticket: the fields in order, then the file."""
        fields = {f["name"]: f["value"] for f in upload["fields"]}
        fields.update(overrides)
        async with httpx.AsyncClient(timeout=30) as outside:  # no Authorization, like a browser form
            return await outside.post(
                upload["url"], data=fields, files={"file": ("whatever-the-user-named-it", data, content_type)}
            )

    async def uploaded(self, as_user: str = ALICE, data: bytes = PDF) -> dict[str, Any]:
        granted = await self.ticket(as_user, data)
        assert (await self.post(granted["upload"], data)).status_code in (200, 201, 204)
        confirmed = (await self.gql.data(CONFIRM, {"id": granted["document"]["id"]}, as_user=as_user))[
            "confirmDocumentUpload"
        ]
        assert confirmed["__typename"] == "DocumentPayload", confirmed
        document: dict[str, Any] = confirmed["document"]
        return document

    async def in_review(self) -> dict[str, Any]:
        document = await self.uploaded()
        submitted = (await self.gql.data(SUBMIT, {"id": document["id"], "v": document["version"]}, as_user=ALICE))[
            "submitDocumentForReview"
        ]
        assert submitted["__typename"] == "DocumentPayload", submitted
        result: dict[str, Any] = submitted["document"]
        return result

    async def read(self, id: str, as_user: str = HR) -> dict[str, Any] | None:
        document: dict[str, Any] | None = (await self.gql.data(READ, {"id": id}, as_user=as_user))["document"]
        return document

    async def events(self, id: str) -> list[tuple[str, dict[str, Any]]]:
        _, key = from_global_id(id)
        async with self.container.engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT type, payload FROM events WHERE aggregate_id = :id ORDER BY id"), {"id": key}
            )
            return [(r.type, r.payload) for r in rows]


def _policy(upload: dict[str, Any]) -> dict[str, Any]:
    encoded = next(f["value"] for f in upload["fields"] if f["name"] == "policy")
    policy: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return policy


# ---- the whole path ------------------------------------------------------------------------


async def test_the_whole_path_as_a_frontend_walks_it(api: Api) -> None:
    granted = await api.ticket()
    document, upload = granted["document"], granted["upload"]
    assert (document["status"], document["fileVersion"]) == ("REQUESTED", 0)
    assert document["availableTransitions"] == ["REQUEST_UPLOAD", "CONFIRM_UPLOAD"]
    assert upload["method"] == "POST"
    fields = {f["name"]: f["value"] for f in upload["fields"]}
    key = fields["key"]
    company, owner = api.gql.demo.principal(ALICE).company_id, api.gql.demo.id(ALICE)
    assert key.startswith(f"uploads/{company}/{owner}/{from_global_id(document['id'])[1]}/v1-") and "offer" not in key
    expires = datetime.fromisoformat(upload["expiresAt"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)

    posted = await api.post(upload, PDF)
    assert posted.status_code in (200, 201, 204), posted.text

    confirmed = (await api.gql.data(CONFIRM, {"id": document["id"]}, as_user=ALICE))["confirmDocumentUpload"]
    assert confirmed["document"]["status"] == "UPLOADED" and confirmed["document"]["fileVersion"] == 1
    again = (await api.gql.data(CONFIRM, {"id": document["id"]}, as_user=ALICE))["confirmDocumentUpload"]
    assert again == confirmed  # confirming twice gives the same result
    assert confirmed["document"]["availableTransitions"] == ["SUBMIT"]

    version = confirmed["document"]["version"]
    submitted = (await api.gql.data(SUBMIT, {"id": document["id"], "v": version}, as_user=ALICE))[
        "submitDocumentForReview"
    ]
    assert submitted["document"]["status"] == "IN_REVIEW"
    assert submitted["document"]["availableTransitions"] == []
    approved = (await api.gql.data(APPROVE, {"id": document["id"], "v": version + 1}, as_user=HR))["approveDocument"]
    assert approved["document"]["status"] == "APPROVED"

    read = await api.read(document["id"], as_user=ALICE)
    assert read is not None and read["availableTransitions"] == []
    (file,) = read["versions"]
    assert file["version"] == 1 and file["fileName"] == "offer letter.pdf" and file["sizeBytes"] == len(PDF)
    assert file["checksum"] == hashlib.sha256(PDF).hexdigest() and file["contentType"] == "application/pdf"
    assert file["uploadedBy"] == api.user_id(ALICE)

    link = parse_qs(urlsplit(read["downloadUrl"]).query)
    if api.store == "s3":
        assert link["X-Amz-Expires"] == ["300"] and "response-content-disposition" in link
    else:
        assert 290 < int(link["expires"][0]) - datetime.now(UTC).timestamp() <= 300
        assert link["sha256"] == [file["checksum"]]
    downloaded = await api.http.get(read["downloadUrl"])
    assert downloaded.status_code == 200 and downloaded.content == PDF
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith("attachment") and "offer%20letter.pdf" in disposition
    if api.store == "local":
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        assert downloaded.headers["content-security-policy"] == "default-src 'none'; sandbox"

    events = await api.events(document["id"])
    assert [t for t, _ in events] == ["DocumentUploaded", "DocumentSubmitted", "DocumentApproved"]
    assert events[-1][1]["actorId"] == str(api.gql.demo.id(HR)) and events[-1][1]["previousStatus"] == "IN_REVIEW"


async def test_a_ticket_posted_again_after_confirm_and_approval_changes_nothing_served(api: Api) -> None:
    """Issue 14: re-posting with the same ticket answered 204 and HR then downloaded other bytes
    than those recorded (a PDF/HTML polyglot). Now confirm seals a copy no ticket reaches, the
    local store writes a key once, and the download is named by the stored type."""
    granted = await api.ticket(fileName="contract.html")
    id, upload = granted["document"]["id"], granted["upload"]
    assert (await api.post(upload, PDF)).status_code in (200, 201, 204)
    confirmed = (await api.gql.data(CONFIRM, {"id": id}, as_user=ALICE))["confirmDocumentUpload"]
    assert confirmed["__typename"] == "DocumentPayload", confirmed
    version = confirmed["document"]["version"]
    submitted = (await api.gql.data(SUBMIT, {"id": id, "v": version}, as_user=ALICE))["submitDocumentForReview"]
    assert submitted["document"]["status"] == "IN_REVIEW"
    approved = (await api.gql.data(APPROVE, {"id": id, "v": version + 1}, as_user=HR))["approveDocument"]
    assert approved["document"]["status"] == "APPROVED"

    again = await api.post(upload, POLYGLOT)  # same size, the same ticket, still unexpired
    if api.store == "local":
        assert again.status_code == 409, again.text
    else:
        assert again.status_code in (200, 201, 204)  # S3 takes it: it lands where nothing is served
    read = await api.read(id)
    assert read is not None
    (file,) = read["versions"]
    downloaded = await api.http.get(read["downloadUrl"])
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert hashlib.sha256(downloaded.content).hexdigest() == file["checksum"] == hashlib.sha256(PDF).hexdigest()
    assert downloaded.headers["content-type"] == "application/pdf"
    disposition = downloaded.headers["content-disposition"]
    assert 'filename="contract.pdf"' in disposition and "html" not in disposition
    assert file["fileName"] == "contract.html"  # what she called it, kept as data


async def test_the_ticket_policy(api: Api) -> None:
    """moto does not enforce POST policies, so the S3 policy is read back and checked here; the
    local store's policy is its own, and the tests below show it enforced."""
    upload = (await api.ticket())["upload"]
    fields = {f["name"]: f["value"] for f in upload["fields"]}
    assert fields["Content-Type"] == "application/pdf"
    if api.store == "s3":
        policy = _policy(upload)
        conditions = policy["conditions"]
        assert {"bucket": api.bucket} in conditions
        assert {"key": fields["key"]} in conditions
        assert {"Content-Type": "application/pdf"} in conditions
        assert ["content-length-range", 1, len(PDF)] in conditions
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        assert timedelta(minutes=9) < expiration - datetime.now(UTC) <= timedelta(minutes=10)
    else:
        assert _policy(upload) == {
            "key": fields["key"],
            "contentType": "application/pdf",
            "maxBytes": len(PDF),
            "expires": int(datetime.fromisoformat(upload["expiresAt"]).timestamp()),
        }


# ---- uploads that break their ticket ---------------------------------------------------------


@pytest.mark.parametrize(
    "breach",
    ["larger than declared", "another content type", "another key", "not a pdf"],
)
async def test_an_object_that_breaks_its_ticket_never_becomes_uploaded(api: Api, breach: str) -> None:
    granted = await api.ticket()
    upload, id = granted["upload"], granted["document"]["id"]
    key = next(f["value"] for f in upload["fields"] if f["name"] == "key")
    if breach == "larger than declared":
        posted = await api.post(upload, PDF + b"% one more line\n")
    elif breach == "another content type":
        posted = await api.post(upload, PDF, **{"Content-Type": "image/png"})
    elif breach == "another key":
        posted = await api.post(upload, PDF, key=key.replace("/v1", "/v2"))
    else:
        posted = await api.post(upload, b"MZ" + PDF[2:])
    if api.store == "local" and breach != "not a pdf":
        assert posted.status_code in (400, 403), posted.text  # the local store enforces its policy
    confirmed = (await api.gql.data(CONFIRM, {"id": id}, as_user=ALICE))["confirmDocumentUpload"]
    assert confirmed["__typename"] == "ValidationError", confirmed
    read = await api.read(id)
    assert read is not None and (read["status"], read["versions"], read["downloadUrl"]) == ("REQUESTED", [], None)
    assert await api.events(id) == []


async def test_an_upload_after_its_ticket_expired_never_becomes_uploaded(api: Api) -> None:
    """The local store refuses an expired POST itself (test_blob_stores); a store that does not
    enforce expiry (moto) is caught at confirm by the object's time. Here the ticket's time has
    passed by moving the document's recorded expiry ten minutes into the past; the ticket's key
    follows its expiry, so the file is posted to the moved ticket's key, as a store that checked
    nothing would take it (the local store gets a policy for it signed by its own secret)."""
    granted = await api.ticket()
    id = granted["document"]["id"]
    async with api.container.engine.begin() as conn:
        document = (
            await conn.execute(
                sa.text(
                    "UPDATE documents SET pending_expires_at = now() - interval '10 minutes' WHERE id = :id"
                    " RETURNING company_id, owner_id, pending_expires_at"
                ),
                {"id": from_global_id(id)[1]},
            )
        ).one()
    key = upload_key(document.company_id, document.owner_id, from_global_id(id)[1], 1, document.pending_expires_at)
    upload = granted["upload"]
    if api.store == "local":
        policy = UploadPolicy(key, "application/pdf", len(PDF), datetime.now(UTC) + timedelta(minutes=1))
        ticket = await api.server_blobs.presign_upload(policy)
        upload = {**upload, "fields": [{"name": n, "value": v} for n, v in ticket.fields]}
    assert (await api.post(upload, PDF, key=key)).status_code in (200, 201, 204)
    confirmed = (await api.gql.data(CONFIRM, {"id": id}, as_user=ALICE))["confirmDocumentUpload"]
    assert confirmed["__typename"] == "ValidationError"
    assert confirmed["fields"] == [{"path": ["file"], "message": "was stored after its upload ticket expired"}]
    read = await api.read(id)
    assert read is not None and (read["status"], read["versions"]) == ("REQUESTED", [])


async def test_concurrent_confirms_give_the_same_answer_and_one_version(api: Api) -> None:
    granted = await api.ticket()
    assert (await api.post(granted["upload"], PDF)).status_code in (200, 201, 204)
    id = granted["document"]["id"]
    answers = await asyncio.gather(*(api.gql.data(CONFIRM, {"id": id}, as_user=ALICE) for _ in range(3)))
    assert all(a == answers[0] for a in answers)
    assert answers[0]["confirmDocumentUpload"]["document"]["status"] == "UPLOADED"
    read = await api.read(id)
    assert read is not None and len(read["versions"]) == 1
    assert [t for t, _ in await api.events(id)] == ["DocumentUploaded"]


async def test_confirm_without_an_upload_is_a_typed_error(api: Api) -> None:
    granted = await api.ticket()
    confirmed = (await api.gql.data(CONFIRM, {"id": granted["document"]["id"]}, as_user=ALICE))["confirmDocumentUpload"]
    assert confirmed["__typename"] == "ValidationError"
    assert confirmed["fields"] == [
        {"path": ["file"], "message": "no uploaded file was found: upload it with the ticket first"}
    ]


async def test_a_declared_file_the_kind_refuses_gets_no_ticket(api: Api) -> None:
    input = {
        "ownerId": api.user_id(ALICE),
        "kind": "CONTRACT",
        "title": "Selfie",
        "fileName": "me.png",
        "contentType": "image/png",
        "sizeBytes": 100_000_000,
    }
    result = (await api.gql.data(REQUEST_UPLOAD, {"input": input}, as_user=ALICE))["requestDocumentUpload"]
    assert result["__typename"] == "ValidationError"
    assert sorted(f["path"][0] for f in result["fields"]) == ["contentType", "sizeBytes"]
    titles = await api.gql.data('{ documents(filter: { title: { eq: "Selfie" } }) { totalCount } }', as_user=HR)
    assert titles["documents"]["totalCount"] == 0


# ---- review --------------------------------------------------------------------------------


async def test_approving_a_document_not_in_review_is_an_invalid_transition(api: Api) -> None:
    document = await api.uploaded()
    approved = (await api.gql.data(APPROVE, {"id": document["id"], "v": document["version"]}, as_user=HR))[
        "approveDocument"
    ]
    assert approved == {
        "__typename": "InvalidTransitionError",
        "code": "INVALID_TRANSITION",
        "message": "Document cannot go from UPLOADED to APPROVED",
        "current": "UPLOADED",
        "target": "APPROVED",
        "from": "UPLOADED",
        "to": "APPROVED",
    }
    read = await api.read(document["id"])
    assert read is not None and (read["status"], read["version"]) == ("UPLOADED", document["version"])


async def test_a_stale_expected_version_is_a_conflict(api: Api) -> None:
    document = await api.in_review()
    stale = (await api.gql.data(APPROVE, {"id": document["id"], "v": document["version"] - 1}, as_user=HR))[
        "approveDocument"
    ]
    assert (stale["__typename"], stale["currentVersion"]) == ("ConflictError", document["version"])
    read = await api.read(document["id"])
    assert read is not None and read["status"] == "IN_REVIEW"


async def test_an_employee_may_not_review(api: Api) -> None:
    document = await api.in_review()
    refused = (await api.gql.data(APPROVE, {"id": document["id"], "v": document["version"]}, as_user=ALICE))[
        "approveDocument"
    ]
    assert refused["__typename"] == "ForbiddenError"


async def test_hr_may_not_review_her_own_document(api: Api) -> None:
    """Separation of duties: HR hands in her own contract like anyone; another reviewer decides."""
    granted = await api.ticket(HR, ownerId=api.user_id(HR), title="My own contract")
    id = granted["document"]["id"]
    assert (await api.post(granted["upload"], PDF)).status_code in (200, 201, 204)
    confirmed = (await api.gql.data(CONFIRM, {"id": id}, as_user=HR))["confirmDocumentUpload"]["document"]
    submitted = (await api.gql.data(SUBMIT, {"id": id, "v": confirmed["version"]}, as_user=HR))[
        "submitDocumentForReview"
    ]["document"]
    assert submitted["status"] == "IN_REVIEW" and submitted["availableTransitions"] == []
    for mutation, variables in ((APPROVE, {}), (REJECT, {"reason": "fine by me"})):
        refused = (await api.gql.data(mutation, {"id": id, "v": submitted["version"], **variables}, as_user=HR))
        (result,) = refused.values()
        assert (result["__typename"], result["code"]) == ("ForbiddenError", "FORBIDDEN"), result
        assert "no one reviews a document she owns" in result["message"]
    assert [t for t, _ in await api.events(id)] == ["DocumentUploaded", "DocumentSubmitted"]
    seen_by_admin = await api.read(id, as_user=ADMIN)
    assert seen_by_admin is not None and seen_by_admin["availableTransitions"] == ["APPROVE", "REJECT"]
    approved = (await api.gql.data(APPROVE, {"id": id, "v": submitted["version"]}, as_user=ADMIN))["approveDocument"]
    assert approved["document"]["status"] == "APPROVED"


async def test_rejection_then_a_new_file_version(api: Api) -> None:
    document = await api.in_review()
    rejected = (
        await api.gql.data(REJECT, {"id": document["id"], "v": document["version"], "reason": "unsigned"}, as_user=HR)
    )["rejectDocument"]
    assert rejected["document"]["status"] == "REJECTED"
    second = PDF.replace(b"Catalog", b"Signed!")
    granted = await api.ticket(data=second, documentId=document["id"])
    key = next(f["value"] for f in granted["upload"]["fields"] if f["name"] == "key")
    assert "/v2-" in key
    assert (await api.post(granted["upload"], second)).status_code in (200, 201, 204)
    confirmed = (await api.gql.data(CONFIRM, {"id": document["id"]}, as_user=ALICE))["confirmDocumentUpload"]
    assert (confirmed["document"]["status"], confirmed["document"]["fileVersion"]) == ("UPLOADED", 2)
    read = await api.read(document["id"])
    assert read is not None and [v["version"] for v in read["versions"]] == [2, 1]
    assert (await api.http.get(read["downloadUrl"])).content == second
    events = await api.events(document["id"])
    assert [t for t, _ in events][-2:] == ["DocumentRejected", "DocumentUploaded"]
    assert events[-2][1]["reason"] == "unsigned"


async def test_another_company_gets_no_download_url_and_cannot_act(api: Api) -> None:
    document = await api.in_review()
    assert await api.read(document["id"], as_user=GLOBEX_HR) is None
    assert await api.read(document["id"], as_user=BOB) is None
    own = await api.read(document["id"], as_user=ALICE)
    assert own is not None and own["downloadUrl"] is not None
    for mutation, variables in (
        (APPROVE, {"v": document["version"]}),
        (REJECT, {"v": document["version"], "reason": "no"}),
        (CONFIRM, {}),
    ):
        result = await api.gql.data(mutation, {"id": document["id"], **variables}, as_user=GLOBEX_HR)
        (payload,) = result.values()
        assert payload["__typename"] == "NotFoundError"
    read = await api.read(document["id"])
    assert read is not None and read["status"] == "IN_REVIEW"


async def test_concurrent_approve_and_reject_give_exactly_one_success(api: Api) -> None:
    document = await api.in_review()
    variables = {"id": document["id"], "v": document["version"]}
    results = await asyncio.gather(
        api.gql.data(APPROVE, variables, as_user=HR),
        api.gql.data(REJECT, {**variables, "reason": "late"}, as_user=ADMIN),
    )
    outcomes = sorted((next(iter(r.values())) for r in results), key=lambda r: r["__typename"])
    assert [r["__typename"] for r in outcomes] == ["ConflictError", "DocumentPayload"]
    assert outcomes[0]["currentVersion"] == outcomes[1]["document"]["version"] == document["version"] + 1
    decided = [t for t, _ in await api.events(document["id"]) if t in ("DocumentApproved", "DocumentRejected")]
    assert len(decided) == 1


# ---- the generic update keeps only what stays editable -----------------------------------------


async def test_an_employee_cannot_move_her_due_date_or_edit_an_approved_document(api: Api) -> None:
    document = await api.in_review()
    id, version = document["id"], document["version"]
    due = (await api.gql.data(UPDATE, {"id": id, "input": {"dueOn": "2031-01-01"}, "v": version}, as_user=ALICE))[
        "updateDocument"
    ]
    assert due["__typename"] == "ForbiddenError" and due["message"] == "you may not change dueOn of this Document"
    noted = (await api.gql.data(UPDATE, {"id": id, "input": {"note": "v2 coming"}, "v": version}, as_user=ALICE))[
        "updateDocument"
    ]
    assert noted["__typename"] == "DocumentPayload"
    approved = (await api.gql.data(APPROVE, {"id": id, "v": version + 1}, as_user=HR))["approveDocument"]
    assert approved["__typename"] == "DocumentPayload"
    for who in (ALICE, HR):
        frozen = (await api.gql.data(UPDATE, {"id": id, "input": {"note": "late"}, "v": version + 2}, as_user=who))[
            "updateDocument"
        ]
        assert frozen["__typename"] == "ForbiddenError" and "approved" in frozen["message"]


# ---- reads stay batched ----------------------------------------------------------------------

PAGE = """{ documents(first: 50) { edges { node {
  id status availableTransitions downloadUrl versions { version checksum } owner { email } } } } }"""


async def test_a_page_with_versions_and_transitions_costs_six_statements(api: Api) -> None:
    for _ in range(3):
        await api.uploaded()
    body = await api.gql(PAGE, as_user=HR)
    assert not body.get("errors"), body
    nodes = [e["node"] for e in body["data"]["documents"]["edges"]]
    with_files = [n for n in nodes if n["versions"]]
    assert len(with_files) == 3 and len(nodes) > 3
    assert all(n["downloadUrl"] and n["availableTransitions"] == ["SUBMIT"] for n in with_files)
    # the token's user, the page, every document's versions in one batch, every owner in one
    # batch; the page's download links in the audit trail together: its head locked, the three
    # entries appended with the head moved in one statement
    assert body["extensions"]["sql"]["statements"] == 6

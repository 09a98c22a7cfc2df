"""The document commands against in-memory fakes of their ports: the service only orchestrates,
and what it records, saves and refuses is checked here without any I/O."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from domains.document.analysis import Analysis, AnalyzerResult, ExtractedField, ExtractedFieldName
from domains.document.model import DeclaredFile, DocumentCommand, DocumentFile, DocumentKind, DocumentStatus, StoredFile
from domains.document.ports import DownloadRequest, UploadPolicy, UploadTicket
from domains.document.service import DocumentCommands, Expiry, NewDocument
from domains.document.spec import DOCUMENT
from domains.document.store import KernelDocumentStore
from domains.kernel.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from domains.kernel.events import DomainEvent
from tests.unit.conftest import World
from tests.unit.fakes import FakeTransactions

S = DocumentStatus
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n" + b"y" * 200
DECLARED = DeclaredFile("offer.pdf", "application/pdf", len(PDF))


class FakeBlobStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.policies: list[UploadPolicy] = []
        self.sealed: list[tuple[str, str]] = []

    async def presign_upload(self, policy: UploadPolicy) -> UploadTicket:
        self.policies.append(policy)
        return UploadTicket(url="memory://upload", fields=(("key", policy.key),), expires_at=policy.expires_at)

    async def inspect(self, key: str) -> StoredFile | None:
        if key not in self.objects:
            return None
        content_type, data = self.objects[key]
        return StoredFile(len(data), content_type, hashlib.sha256(data).hexdigest(), data[:16], stored_at=NOW)

    async def seal(self, upload_key: str, key: str) -> StoredFile | None:
        self.sealed.append((upload_key, key))
        if upload_key not in self.objects:
            return None
        assert key not in self.objects, "a sealed key is written once"
        self.objects[key] = self.objects[upload_key]
        return await self.inspect(key)

    async def discard(self, key: str) -> None:
        self.objects.pop(key, None)

    async def read(self, key: str) -> bytes | None:
        return self.objects[key][1] if key in self.objects else None

    def presign_download(self, request: DownloadRequest) -> str:
        return (
            f"memory://{request.key}?name={request.file_name}&sha256={request.sha256}"
            f"&until={request.expires_at.isoformat()}"
        )


class FakeFiles:
    def __init__(self) -> None:
        self.files: list[DocumentFile] = []

    async def add(self, file: DocumentFile) -> None:
        assert all((f.document_id, f.version) != (file.document_id, file.version) for f in self.files)
        self.files.append(file)

    async def for_documents(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DocumentFile]]:
        return {i: sorted((f for f in self.files if f.document_id == i), key=lambda f: -f.version) for i in ids}

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentFile | None:
        return next((f for f in self.files if (f.document_id, f.version) == (document_id, version)), None)

    async def record_analysis(self, document_id: uuid.UUID, version: int, analysis: Analysis) -> None:
        self.files = [
            dataclasses.replace(f, analysis=analysis) if (f.document_id, f.version) == (document_id, version) else f
            for f in self.files
        ]


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Recorder:
    """The events of the documents the commands saved, as the unit of work would publish them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.published: list[DomainEvent] = []

    @property
    def events(self) -> list[DomainEvent]:
        self.published.extend(self.world.store.take_events())
        return self.published


class Harness:
    def __init__(self, world: World) -> None:
        self.world = world
        self.blobs = FakeBlobStore()
        self.files = FakeFiles()
        self.recorder = Recorder(world)
        self.commands = DocumentCommands(
            KernelDocumentStore(world.documents),
            self.files,
            self.blobs,
            FixedClock(),
            FakeTransactions(),
            Expiry(upload=timedelta(minutes=3), download=timedelta(seconds=30)),
        )

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.recorder.events]

    def stored(self, id: uuid.UUID):  # type: ignore[no-untyped-def]
        return self.world.store.stored(DOCUMENT, id)

    async def uploaded(self, who: str = "alice") -> uuid.UUID:
        viewer = self.world.as_(getattr(self.world, who))
        granted = await self.commands.request_upload(viewer, self.world.alice_doc.id, DECLARED)
        self.blobs.objects[granted.document.upload_key] = ("application/pdf", PDF)
        await self.commands.confirm_upload(viewer, self.world.alice_doc.id)
        return self.world.alice_doc.id


@pytest.fixture
def h(world: World) -> Harness:
    return Harness(world)


async def test_a_ticket_for_a_new_document_fixes_key_type_size_and_expiry(h: Harness) -> None:
    alice = h.world.as_(h.world.alice)
    new = NewDocument(owner_id=h.world.alice.id, kind=DocumentKind.CONTRACT, title="Offer")
    granted = await h.commands.request_upload_for_new(alice, new, DECLARED)
    doc = h.stored(granted.document.id)
    assert (doc.status, doc.pending_file_name, doc.file_version) == (S.REQUESTED, "offer.pdf", 0)
    assert doc.pending_expires_at == NOW + timedelta(minutes=3)
    (policy,) = h.blobs.policies
    assert policy == UploadPolicy(
        key=f"uploads/{h.world.acme.id}/{h.world.alice.id}/{doc.id}/v1-20260501T120300000000Z",
        content_type="application/pdf",
        max_bytes=len(PDF),
        expires_at=NOW + timedelta(minutes=3),
    )
    assert granted.ticket.expires_at == policy.expires_at and h.recorder.events == []


async def test_an_employee_cannot_request_a_document_for_someone_else(h: Harness) -> None:
    new = NewDocument(owner_id=h.world.bob.id, kind=DocumentKind.CONTRACT, title="Not mine")
    with pytest.raises(Forbidden):
        await h.commands.request_upload_for_new(h.world.as_(h.world.alice), new, DECLARED)
    assert h.blobs.policies == []


async def test_a_declared_file_the_kind_refuses_gets_no_ticket_and_no_document(h: Harness) -> None:
    new = NewDocument(owner_id=h.world.alice.id, kind=DocumentKind.CONTRACT, title="Photo")
    before = len(h.world.store.tables["Document"])
    with pytest.raises(Invalid):
        await h.commands.request_upload_for_new(h.world.as_(h.world.alice), new, DeclaredFile("a.png", "image/png", 9))
    assert len(h.world.store.tables["Document"]) == before and h.blobs.policies == []


async def test_confirm_checks_the_object_and_records_a_version_once(h: Harness) -> None:
    alice = h.world.as_(h.world.alice)
    id = h.world.alice_doc.id
    await h.commands.request_upload(alice, id, DECLARED)
    with pytest.raises(Invalid):
        await h.commands.confirm_upload(alice, id)  # nothing uploaded yet
    assert (h.stored(id).status, h.files.files, h.recorder.events) == (S.REQUESTED, [], [])

    h.blobs.objects[h.stored(id).upload_key] = ("application/pdf", PDF)
    first = await h.commands.confirm_upload(alice, id)
    again = await h.commands.confirm_upload(alice, id)
    assert (first.status, first.version, first.file_version) == (S.UPLOADED, 3, 1)
    assert (again.status, again.version, again.file_version) == (S.UPLOADED, 3, 1)
    (file,) = h.files.files
    assert (file.sha256, file.size_bytes, file.uploaded_at, file.uploaded_by) == (
        hashlib.sha256(PDF).hexdigest(),
        len(PDF),
        NOW,
        h.world.alice.id,
    )
    assert h.types == ["DocumentUploaded"]


async def test_review_commands_check_the_expected_version(h: Harness) -> None:
    id = await h.uploaded()
    hr = h.world.as_(h.world.hr)
    version = h.stored(id).version
    with pytest.raises(Conflict) as caught:
        await h.commands.submit(hr, id, version - 1)
    assert caught.value.current_version == version
    assert h.stored(id).status is S.UPLOADED and h.types == ["DocumentUploaded"]
    submitted = await h.commands.submit(h.world.as_(h.world.alice), id, version)
    approved = await h.commands.approve(hr, id, submitted.version)
    assert (approved.status, approved.version) == (S.APPROVED, version + 2)
    assert h.types == ["DocumentUploaded", "DocumentSubmitted", "DocumentApproved"]


async def test_hr_cannot_review_her_own_document(h: Harness) -> None:
    hr, admin = h.world.as_(h.world.hr), h.world.as_(h.world.admin)
    new = NewDocument(owner_id=h.world.hr.id, kind=DocumentKind.CONTRACT, title="My own contract")
    granted = await h.commands.request_upload_for_new(hr, new, DECLARED)
    id = granted.document.id
    h.blobs.objects[granted.document.upload_key] = ("application/pdf", PDF)
    await h.commands.confirm_upload(hr, id)
    submitted = await h.commands.submit(hr, id, h.stored(id).version)
    version = submitted.version
    assert h.commands.available(hr, submitted) == []
    for review in (h.commands.approve(hr, id, version), h.commands.reject(hr, id, "fine by me", version)):
        with pytest.raises(Forbidden) as refused:
            await review
        assert "no one reviews a document she owns" in refused.value.message
    assert (h.stored(id).status, h.stored(id).version) == (S.IN_REVIEW, version)
    assert h.types == ["DocumentUploaded", "DocumentSubmitted"]
    assert h.commands.available(admin, submitted) == [DocumentCommand.APPROVE, DocumentCommand.REJECT]
    approved = await h.commands.approve(admin, id, version)
    assert approved.status is S.APPROVED and h.types[-1] == "DocumentApproved"


async def test_approving_what_is_not_in_review_changes_nothing(h: Harness) -> None:
    id = await h.uploaded()
    version = h.stored(id).version
    with pytest.raises(InvalidTransition) as caught:
        await h.commands.approve(h.world.as_(h.world.hr), id, version)
    assert (caught.value.current, caught.value.target) == ("UPLOADED", "APPROVED")
    assert (h.stored(id).status, h.stored(id).version, h.types) == (S.UPLOADED, version, ["DocumentUploaded"])


async def test_another_company_cannot_see_or_act(h: Harness) -> None:
    id = await h.uploaded()
    globex_hr = h.world.as_(h.world.globex_hr)
    for command in (
        h.commands.submit(globex_hr, id, 3),
        h.commands.reject(globex_hr, id, "no", 3),
        h.commands.confirm_upload(globex_hr, id),
    ):
        with pytest.raises(NotFound):
            await command
    assert h.types == ["DocumentUploaded"]


async def test_rejection_then_a_second_version(h: Harness) -> None:
    id = await h.uploaded()
    alice, hr = h.world.as_(h.world.alice), h.world.as_(h.world.hr)
    submitted = await h.commands.submit(alice, id, h.stored(id).version)
    rejected = await h.commands.reject(hr, id, "unsigned", submitted.version)
    assert h.recorder.events[-1].payload["reason"] == "unsigned"
    assert h.commands.available(alice, rejected) == [DocumentCommand.REQUEST_UPLOAD]
    await h.commands.request_upload(alice, id, DECLARED)
    h.blobs.objects[h.stored(id).upload_key] = ("application/pdf", PDF + b"v2")
    with pytest.raises(Invalid):  # larger than declared
        await h.commands.confirm_upload(alice, id)
    h.blobs.objects[h.stored(id).upload_key] = ("application/pdf", PDF[:-2] + b"v2")
    confirmed = await h.commands.confirm_upload(alice, id)
    assert (confirmed.status, confirmed.file_version) == (S.UPLOADED, 2)
    assert [f.version for f in (await h.files.for_documents([id]))[id]] == [2, 1]


async def test_download_url_for_the_latest_file_only_for_its_readers(h: Harness) -> None:
    id = await h.uploaded()
    doc = h.stored(id)
    files = (await h.files.for_documents([id]))[id]
    url = h.commands.download_url(h.world.as_(h.world.hr), doc, files)
    sha = hashlib.sha256(PDF).hexdigest()
    assert url == f"memory://{files[0].object_key}?name=offer.pdf&sha256={sha}&until=2026-05-01T12:00:30+00:00"
    assert h.commands.download_url(h.world.as_(h.world.bob), doc, files) is None
    assert h.commands.download_url(h.world.as_(h.world.globex_hr), doc, files) is None
    assert h.commands.download_url(h.world.as_(h.world.alice), doc, []) is None


async def test_confirm_records_a_sealed_copy_that_a_second_post_with_the_ticket_cannot_reach(h: Harness) -> None:
    alice = h.world.as_(h.world.alice)
    id = h.world.alice_doc.id
    await h.commands.request_upload(alice, id, DECLARED)
    upload_key = h.stored(id).upload_key
    h.blobs.objects[upload_key] = ("application/pdf", PDF)
    await h.commands.confirm_upload(alice, id)
    (file,) = h.files.files
    doc = h.stored(id)
    assert h.blobs.sealed == [(upload_key, file.object_key)]
    assert file.object_key.startswith(f"{doc.company_id}/{doc.owner_id}/{id}/v1-") and upload_key.startswith("uploads/")
    h.blobs.objects[upload_key] = ("application/pdf", b"%PDF-<html><script>alert(1)</script>")  # S3 takes it
    url = h.commands.download_url(h.world.as_(h.world.hr), doc, [file])
    assert url is not None and url.startswith(f"memory://{file.object_key}?")
    assert h.blobs.objects[file.object_key] == ("application/pdf", PDF)
    assert file.sha256 == hashlib.sha256(PDF).hexdigest()


async def test_a_confirm_that_fails_its_check_keeps_no_copy_and_one_not_allowed_copies_nothing(h: Harness) -> None:
    alice = h.world.as_(h.world.alice)
    id = h.world.alice_doc.id
    await h.commands.request_upload(alice, id, DECLARED)
    h.blobs.objects[h.stored(id).upload_key] = ("application/pdf", b"MZ" + PDF[2:])
    with pytest.raises(Invalid):
        await h.commands.confirm_upload(alice, id)
    assert list(h.blobs.objects) == [h.stored(id).upload_key]  # the sealed copy was discarded
    with pytest.raises(InvalidTransition):
        await h.commands.confirm_upload(h.world.as_(h.world.hr), h.world.bob_doc.id)  # no ticket
    assert len(h.blobs.sealed) == 1 and h.files.files == []


async def test_the_download_name_takes_the_extension_of_the_stored_type(h: Harness) -> None:
    alice = h.world.as_(h.world.alice)
    id = h.world.alice_doc.id
    await h.commands.request_upload(alice, id, DeclaredFile("contract.html", "application/pdf", len(PDF)))
    h.blobs.objects[h.stored(id).upload_key] = ("application/pdf", PDF)
    await h.commands.confirm_upload(alice, id)
    url = h.commands.download_url(alice, h.stored(id), h.files.files)
    assert url is not None and "?name=contract.pdf&" in url


class ReadsLikeAnId:
    name = "fake"

    async def analyze(self, content: bytes, content_type: str) -> AnalyzerResult:
        expiry = ExtractedField(ExtractedFieldName.EXPIRY_DATE, "2026-04-01", 0.9)
        return AnalyzerResult(text="IDENTITY CARD", kind=DocumentKind.ID, kind_confidence=0.91, fields=(expiry,))


async def test_an_analysis_is_stored_on_its_version_and_moves_nothing(h: Harness) -> None:
    id = await h.uploaded()
    before = (h.stored(id).status, h.stored(id).version, len(h.recorder.events))

    async def owner_name(_: uuid.UUID) -> str | None:
        return "Alice Martin"

    analysis = await h.commands.analyze(h.world.as_(h.world.admin), id, 1, ReadsLikeAnId(), owner_name)
    assert analysis is not None
    assert analysis.warnings == ("declared CONTRACT, reads like an ID (0.91)", "expired on 2026-04-01")
    (file,) = h.files.files
    assert file.analysis == analysis
    assert (h.stored(id).status, h.stored(id).version, len(h.recorder.events)) == before


async def test_expire_due_expires_each_due_document_once_and_requests_its_renewal(h: Harness) -> None:
    id = await h.uploaded()
    admin = h.world.as_(h.world.admin)
    h.world.store.tables["Document"][id].expires_on = NOW.date()  # as HR would set it
    doc = h.stored(id)
    (renewal,) = await h.commands.expire_due(admin)
    assert h.stored(id).status is S.EXPIRED and "DocumentExpired" in h.types
    assert (renewal.status, renewal.kind, renewal.owner_id, renewal.renews_id) == (
        S.REQUESTED,
        doc.kind,
        doc.owner_id,
        id,
    )
    assert await h.commands.expire_due(admin) == []

"""The document commands, as use cases: load through a port, ask the entity, persist.

Each command runs in a transaction of the operation's unit of work: it commits with the events
the saved documents recorded (and what their handlers did), or nothing does.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domains.document.analysis import Advice, Analysis, DocumentAnalyzer, ExtractedFieldName, advise
from domains.document.model import (
    KIND_RULES,
    DeclaredFile,
    Document,
    DocumentCommand,
    DocumentFile,
    DocumentKind,
    check_declared,
    download_name,
)
from domains.document.ports import (
    BlobStore,
    Clock,
    DocumentFiles,
    DocumentStore,
    DownloadRequest,
    UploadPolicy,
    UploadTicket,
)
from domains.kernel.audit import DOWNLOAD_LINK_ISSUED, AuditEntry, AuditRecorder
from domains.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional
from domains.kernel.versions import check_version


@dataclass(frozen=True)
class Expiry:
    upload: timedelta = timedelta(minutes=10)
    download: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class NewDocument:
    """What a document created with its first upload needs: every one of these fields."""

    owner_id: uuid.UUID
    kind: DocumentKind
    title: str

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> NewDocument:
        """The new document ``given`` describes; a field it lacks (or gives as None) is ``Invalid``."""
        missing = [name for name in cls.fields() if given.get(name) is None]
        if missing:
            raise Invalid({(name,): ["is required for a new document"] for name in missing})
        return cls(**{name: given[name] for name in cls.fields()})


RENEWAL_DUE = timedelta(days=14)
"""How long the owner has to hand in the renewal of an expired document."""


@dataclass(frozen=True)
class UploadGranted:
    document: Document
    ticket: UploadTicket


class DocumentCommands:
    def __init__(
        self,
        documents: DocumentStore,
        files: DocumentFiles,
        blobs: BlobStore,
        clock: Clock,
        uow: Transactional,
        expiry: Expiry = Expiry(),
        audit: AuditRecorder | None = None,
    ) -> None:
        self.uow = uow
        self.audit = audit
        self.documents = documents
        self.files = files
        self.blobs = blobs
        self.clock = clock
        self.expiry = expiry

    # ---- uploads -----------------------------------------------------------------------

    async def request_upload_for_new(self, actor: Principal, new: NewDocument, file: DeclaredFile) -> UploadGranted:
        """A new document and a ticket for its first file, in one step."""
        async with self.uow.transaction():
            check_declared(new.kind, file)
            document = await self.documents.create(
                actor, {"owner_id": new.owner_id, "kind": new.kind, "title": new.title}
            )
            return await self._grant(actor, document, file)

    async def request_upload(self, actor: Principal, id: uuid.UUID, file: DeclaredFile) -> UploadGranted:
        async with self.uow.transaction():
            return await self._grant(actor, await self._load(actor, id), file)

    async def _grant(self, actor: Principal, document: Document, file: DeclaredFile) -> UploadGranted:
        expected = document.version
        expires_at = self.clock.now() + self.expiry.upload
        document.request_upload(file, actor, expires_at)
        await self.documents.save(document, expected)
        assert document.upload_key is not None  # request_upload set the ticket's expiry
        policy = UploadPolicy(
            key=document.upload_key,
            content_type=file.content_type,
            max_bytes=min(file.size_bytes, KIND_RULES[document.kind].max_bytes),
            expires_at=expires_at,
        )
        return UploadGranted(document, await self.blobs.presign_upload(policy))

    async def confirm_upload(self, actor: Principal, id: uuid.UUID) -> Document:
        """Seals the ticket's upload at a key of its own, checks that copy and records it: a
        ticket that posts again (S3 allows it until the ticket expires) changes nothing served."""
        async with self.uow.transaction():
            document = await self._load(actor, id)
            if document.is_confirmed():
                return document
            expected = document.version
            document.check_confirm(actor)
            assert document.upload_key is not None
            key = document.sealed_key(secrets.token_hex(8))
            stored = await self.blobs.seal(document.upload_key, key)
            try:
                file = document.confirm_upload(stored, key, actor, self.clock.now())
                await self.documents.save(document, expected)
            except Conflict:
                await self.blobs.discard(key)
                current = await self._load(actor, id)
                if current.is_confirmed():
                    return current  # a concurrent confirm of the same upload won: the same answer
                raise
            except Exception:
                if stored is not None:
                    await self.blobs.discard(key)
                raise
            await self.files.add(file)
            return document

    # ---- review ------------------------------------------------------------------------

    async def submit(self, actor: Principal, id: uuid.UUID, expected_version: int) -> Document:
        async with self.uow.transaction():
            document = await self._load(actor, id, expected_version)
            document.submit(actor, self.clock.now())
            await self.documents.save(document, expected_version)
            return document

    async def approve(self, actor: Principal, id: uuid.UUID, expected_version: int) -> Document:
        async with self.uow.transaction():
            document = await self._load(actor, id, expected_version)
            document.approve(actor, self.clock.now())
            await self.documents.save(document, expected_version)
            return document

    async def reject(self, actor: Principal, id: uuid.UUID, reason: str, expected_version: int) -> Document:
        async with self.uow.transaction():
            document = await self._load(actor, id, expected_version)
            document.reject(reason, actor, self.clock.now())
            await self.documents.save(document, expected_version)
            return document

    # ---- analysis (advice, never a move) ------------------------------------------------

    async def analyze(
        self,
        actor: Principal,
        id: uuid.UUID,
        version: int,
        analyzer: DocumentAnalyzer,
        owner_name: Callable[[uuid.UUID], Awaitable[str | None]],
    ) -> Analysis | None:
        """Reads one file version and stores what it says (a job after the confirm; again for
        the same version replaces it). The file is read outside any transaction: OCR takes
        seconds and holds no connection. None when the document or its file is gone."""
        document = await self.documents.visible(actor, id)
        if document is None:
            return None  # deleted since: nothing to advise on
        file = await self.files.get(id, version)
        content = None if file is None else await self.blobs.read(file.object_key)
        if file is None or content is None:
            return None
        result = await analyzer.analyze(content, file.content_type)
        now = self.clock.now()
        advice = Advice(declared=document.kind, owner_name=await owner_name(document.owner_id), today=now.date())
        analysis = advise(result, advice, analyzer.name, now)
        async with self.uow.transaction():
            await self.files.record_analysis(id, version, analysis)
        return analysis

    async def accept_extraction(
        self, actor: Principal, id: uuid.UUID, version: int, name: ExtractedFieldName, expected_version: int
    ) -> Document:
        """HR takes one field its analysis read: an expiry date becomes the document's
        ``expires_on``; a name or number is marked accepted on the analysis."""
        async with self.uow.transaction():
            document = await self._load(actor, id, expected_version)
            file = await self.files.get(id, version)
            if file is None:
                raise Invalid.field("version", f"the document has no file version {version}")
            extracted = None if file.analysis is None else file.analysis.field(name)
            if file.analysis is None or extracted is None:
                raise Invalid.field("field", f"the analysis of version {version} read no {name.value}")
            if not document.is_reviewer(actor):
                raise Forbidden("only HR of the document's company may accept what its analysis read")
            if name is ExtractedFieldName.EXPIRY_DATE:
                try:
                    expires_on = date.fromisoformat(extracted.value)
                except ValueError:
                    raise Invalid.field("field", f"{extracted.value!r} is not a date") from None
                document.accept_expiry(expires_on, actor)
                await self.documents.save(document, expected_version)
            await self.files.record_analysis(id, version, file.analysis.accepting(name))
            return document

    # ---- expiry ------------------------------------------------------------------------

    async def expire_due(self, actor: Principal) -> list[Document]:
        """Every document whose expiry date has come becomes EXPIRED, and a renewal (REQUESTED,
        the same kind, title and owner, ``renews_id`` the expired one) is created; one
        transaction per document. The renewals, in the order of expiry."""
        today = self.clock.now().date()
        renewals = []
        for id in await self.documents.due_to_expire(actor, today):
            try:
                renewal = await self._expire(actor, id, today)
            except Conflict:
                continue  # another worker expired it at the same moment: its renewal stands
            if renewal is not None:
                renewals.append(renewal)
        return renewals

    async def _expire(self, actor: Principal, id: uuid.UUID, today: date) -> Document | None:
        async with self.uow.transaction():
            document = await self.documents.visible(actor, id)
            if document is None or not document.is_due_to_expire(today):
                return None  # another worker took it
            expected = document.version
            document.expire(actor, self.clock.now())
            await self.documents.save(document, expected)
            renewal = await self.documents.create(
                actor,
                {
                    "company_id": document.company_id,
                    "owner_id": document.owner_id,
                    "kind": document.kind,
                    "title": document.title,
                    "due_on": today + RENEWAL_DUE,
                },
            )
            created = renewal.version
            renewal.renews_id = document.id
            await self.documents.save(renewal, created)
            return renewal

    # ---- reads -------------------------------------------------------------------------

    def available(self, actor: Principal, document: Document) -> list[DocumentCommand]:
        return document.available_commands(actor)

    def download_url(self, actor: Principal, document: Document, files: Sequence[DocumentFile]) -> str | None:
        """For the latest file of a document the actor may read (it was loaded in their scope;
        the owner-or-HR rule is asked again here), else None."""
        if not files or not document.is_owner_or_reviewer(actor):
            return None
        latest = max(files, key=lambda f: f.version)
        return self.blobs.presign_download(
            DownloadRequest(
                key=latest.object_key,
                file_name=download_name(latest.file_name, latest.content_type),
                content_type=latest.content_type,
                sha256=latest.sha256,
                expires_at=self.clock.now() + self.expiry.download,
            )
        )

    async def download_urls(
        self, actor: Principal, wanted: Sequence[tuple[Document, Sequence[DocumentFile]]]
    ) -> list[str | None]:
        """``download_url`` for each, every link issued recorded in the audit trail first (in
        the transaction running, else in one of their own): no entry, no link."""
        urls = [self.download_url(actor, document, files) for document, files in wanted]
        entries = [
            AuditEntry(
                action=DOWNLOAD_LINK_ISSUED,
                entity="Document",
                entity_id=document.id,
                company_id=document.company_id,
                subject_id=document.owner_id,
                changes={"fileVersion": {"old": None, "new": max(f.version for f in files)}},
            )
            for (document, files), url in zip(wanted, urls, strict=True)
            if url is not None
        ]
        if self.audit is not None:
            await self.audit.record(entries)
        return urls

    async def _load(self, actor: Principal, id: uuid.UUID, expected_version: int | None = None) -> Document:
        document = await self.documents.visible(actor, id)
        if document is None:
            raise NotFound("Document", id)
        if expected_version is not None:
            check_version("Document", document, expected_version)
        return document

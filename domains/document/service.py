"""The document commands, as use cases: load through a port, ask the entity, persist.

Each command runs in a transaction of the operation's unit of work: it commits with the events
the saved documents recorded (and what their handlers did), or nothing does.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
from domains.kernel.errors import Conflict, Invalid, NotFound
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

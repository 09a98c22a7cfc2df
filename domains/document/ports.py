"""What the document commands need from the outside world, as protocols.

Implementations: ``domains/document/store.py`` (documents through the kernel's entity store),
``adapters/sql/documents.py`` (file versions), ``adapters/blobs/`` (S3 and the local store);
in-memory fakes in ``tests/unit/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from domains.document.analysis import Analysis
from domains.document.model import Document, DocumentFile, StoredFile
from domains.kernel.principal import Principal


@dataclass(frozen=True)
class UploadPolicy:
    """What a presigned upload must be: exactly this key and content type, at most
    ``max_bytes`` (at least one byte), before ``expires_at``."""

    key: str
    content_type: str
    max_bytes: int
    expires_at: datetime


@dataclass(frozen=True)
class UploadTicket:
    """A presigned POST: send ``fields`` (in order) and then the file as multipart form data."""

    url: str
    fields: tuple[tuple[str, str], ...]
    expires_at: datetime
    method: str = "POST"


@dataclass(frozen=True)
class DownloadRequest:
    """A link to serve the object at ``key`` as an attachment named ``file_name`` (whose
    extension follows ``content_type``); a store that can check ``sha256`` on the way does."""

    key: str
    file_name: str
    content_type: str
    sha256: str
    expires_at: datetime


class BlobStore(Protocol):
    async def presign_upload(self, policy: UploadPolicy) -> UploadTicket: ...

    async def inspect(self, key: str) -> StoredFile | None:
        """The stored object measured (size, content type, SHA-256, first bytes), or None."""
        ...

    async def seal(self, upload_key: str, key: str) -> StoredFile | None:
        """Copies what a ticket uploaded at ``upload_key`` to ``key``, which no ticket names and
        nothing writes again, and measures the copy (None when nothing was uploaded).
        ``stored_at`` is the upload's time, not the copy's."""
        ...

    async def discard(self, key: str) -> None:
        """Removes a sealed copy that was not recorded (no error when there is none)."""
        ...

    async def read(self, key: str) -> bytes | None:
        """The bytes of a sealed object (for its analysis, in a worker), or None."""
        ...

    def presign_download(self, request: DownloadRequest) -> str:
        """A URL that serves the object as an attachment named ``file_name`` until it expires."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class DocumentFiles(Protocol):
    """The uploaded files of documents (``document_versions``)."""

    async def add(self, file: DocumentFile) -> None: ...

    async def for_documents(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DocumentFile]]:
        """Every asked id, with its files newest first (an empty list when it has none)."""
        ...

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentFile | None: ...

    async def record_analysis(self, document_id: uuid.UUID, version: int, analysis: Analysis) -> None:
        """Stores (or replaces) the analysis of one file version."""
        ...


class DocumentStore(Protocol):
    """Documents as the commands see them: what an actor may see, created with the generic
    rules, saved with optimistic concurrency."""

    async def visible(self, actor: Principal, id: uuid.UUID) -> Document | None: ...

    async def create(self, actor: Principal, data: Mapping[str, Any]) -> Document: ...

    async def save(self, document: Document, expected_version: int) -> None:
        """Writes ``document`` at ``expected_version + 1``, or raises ``Conflict`` when stale."""
        ...

    async def due_to_expire(self, actor: Principal, today: date) -> list[uuid.UUID]:
        """The documents ``actor`` may see whose expiry date has come and that may expire."""
        ...

"""What an erasure needs from the outside world, as protocols.

Implementations: ``domains/privacy/store.py`` (requests through the kernel's entity store),
``adapters/sql/privacy.py`` (a person's rows, under the database's row-level security),
``adapters/blobs/erasure.py`` (S3 and the local store).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domains.kernel.principal import Principal
from domains.privacy.export import Dossier, PersonDataExport
from domains.privacy.model import ErasureRequest


class ErasureStore(Protocol):
    async def visible(self, actor: Principal, id: uuid.UUID) -> ErasureRequest | None: ...

    async def pending_for(self, subject_id: uuid.UUID) -> ErasureRequest | None: ...

    async def add(self, request: ErasureRequest) -> None: ...

    async def save(self, request: ErasureRequest, expected_version: int) -> None: ...


class PersonalData(Protocol):
    """A person's rows, as the caller may see them."""

    async def company_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        """The person's company, None when there is no such person the caller may see."""
        ...

    async def file_prefixes(self, user_id: uuid.UUID, keep_kinds: Collection[str]) -> Sequence[str]:
        """Where the files of the person's documents lie (every version, every upload), but for
        the documents of the kinds kept."""
        ...

    async def pseudonymise(self, user_id: uuid.UUID, pseudonym: str, keep_kinds: Collection[str]) -> None:
        """The personal fields replaced: the profile, the documents not kept, the workflows."""
        ...


class FileEraser(Protocol):
    async def erase(self, prefix: str) -> int:
        """Deletes every object (and, where the store keeps them, every version) under
        ``prefix``; how many there were."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class ExportStore(Protocol):
    async def visible(self, actor: Principal, id: uuid.UUID) -> PersonDataExport | None: ...

    async def add(self, export: PersonDataExport) -> None: ...

    async def save(self, export: PersonDataExport, expected_version: int) -> None: ...


class Dossiers(Protocol):
    async def dossier(self, user_id: uuid.UUID) -> Dossier:
        """Everything held about the person: profile, documents and their file versions,
        workflows and their steps, the audit entries about her."""
        ...


class ArchiveStore(Protocol):
    """The blob store as an export needs it: files read (decrypted), the archive written
    (encrypted at rest as every object), a short-lived link to it."""

    async def read(self, key: str) -> bytes | None: ...

    async def write(self, key: str, data: bytes, content_type: str) -> str:
        """Stores ``data`` at ``key`` (never written before); its SHA-256."""
        ...

    def link(self, key: str, file_name: str, content_type: str, sha256: str, expires_at: datetime) -> str: ...

"""A person's data export: HR (or an ADMIN) asks, a worker assembles the archive, and the
export then holds a short-lived link to it.

``archive`` builds the zip itself (stdlib ``zipfile``): ``person.json`` (the profile),
``documents.json`` (every document with its file versions), ``files/<document>/<version>-<name>``
(each version's bytes, decrypted), ``workflows.json`` (with their steps) and ``audit.json``
(the audit entries about her).
"""

from __future__ import annotations

import enum
import io
import json
import re
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from domains.kernel.entity import Entity
from domains.kernel.errors import Forbidden, InvalidTransition
from domains.kernel.events import ENVELOPE, DomainEvent, now
from domains.kernel.principal import Principal, Role

ARCHIVE_CONTENT_TYPE = "application/zip"


class ExportStatus(enum.Enum):
    PENDING = "PENDING"
    READY = "READY"


def may_export(actor: Principal) -> bool:
    return bool(actor.roles & {Role.HR, Role.ADMIN})


@dataclass(frozen=True, kw_only=True)
class PersonDataExportRequested(DomainEvent):
    """Published shape: ``exportId``, ``subjectId``, ``companyId``, ``requestedBy``."""

    aggregate: ClassVar[str] = "PersonDataExport"
    aggregate_key: ClassVar[str] = "export_id"

    export_id: uuid.UUID
    subject_id: uuid.UUID
    company_id: uuid.UUID
    requested_by: uuid.UUID
    actor_id: uuid.UUID | None = field(metadata=ENVELOPE)
    occurred_at: datetime = field(default_factory=now, metadata=ENVELOPE)


EXPORT_EVENT_TYPES = frozenset({PersonDataExportRequested.__name__})


@dataclass(kw_only=True)
class PersonDataExport(Entity):
    company_id: uuid.UUID
    subject_id: uuid.UUID
    requested_by: uuid.UUID
    status: ExportStatus = ExportStatus.PENDING
    archive_key: str | None = None
    size_bytes: int | None = None
    files: int | None = None
    download_url: str | None = None
    link_expires_at: datetime | None = None
    ready_at: datetime | None = None

    @classmethod
    def ask(cls, actor: Principal, subject_id: uuid.UUID, subject_company: uuid.UUID) -> PersonDataExport:
        if not may_export(actor):
            raise Forbidden("only HR or an ADMIN may export a person's data")
        export = cls(company_id=subject_company, subject_id=subject_id, requested_by=actor.user_id)
        export.record_event(
            PersonDataExportRequested(
                export_id=export.id,
                subject_id=subject_id,
                company_id=subject_company,
                requested_by=actor.user_id,
                actor_id=actor.user_id,
            )
        )
        return export

    def ready(self, key: str, size_bytes: int, files: int, url: str, expires_at: datetime, at: datetime) -> None:
        if self.status is not ExportStatus.PENDING:
            raise InvalidTransition("PersonDataExport", self.status.value, ExportStatus.READY.value)
        self.status = ExportStatus.READY
        self.archive_key = key
        self.size_bytes = size_bytes
        self.files = files
        self.download_url = url
        self.link_expires_at = expires_at
        self.ready_at = at


@dataclass(frozen=True)
class StoredVersion:
    document_id: uuid.UUID
    version: int
    file_name: str
    object_key: str


@dataclass(frozen=True)
class Dossier:
    """Everything held about a person, as rows (JSON objects)."""

    profile: Mapping[str, Any] | None
    documents: Sequence[Mapping[str, Any]]
    versions: Sequence[Mapping[str, Any]]
    workflows: Sequence[Mapping[str, Any]]
    steps: Sequence[Mapping[str, Any]]
    audit: Sequence[Mapping[str, Any]]

    def files(self) -> list[StoredVersion]:
        return [
            StoredVersion(
                uuid.UUID(str(v["document_id"])), int(v["version"]), str(v["file_name"]), str(v["object_key"])
            )
            for v in self.versions
        ]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_entry(version: StoredVersion) -> str:
    name = _UNSAFE.sub("_", version.file_name).strip("._") or "file"
    return f"files/{version.document_id}/{version.version}-{name}"


def archive(dossier: Dossier, contents: Mapping[StoredVersion, bytes | None]) -> bytes:
    """The zip of a dossier and its files' bytes (a file the store no longer has is listed in
    ``documents.json`` with ``"archived": false``)."""

    def dump(value: Any) -> str:
        return json.dumps(value, indent=2, sort_keys=True, default=str)

    versions = []
    for row in dossier.versions:
        found = next(
            (
                v
                for v in contents
                if v.document_id == uuid.UUID(str(row["document_id"])) and v.version == int(row["version"])
            ),
            None,
        )
        data = None if found is None else contents[found]
        versions.append(
            {**row, "archived": data is not None, "entry": None if found is None or data is None else file_entry(found)}
        )
    documents = [
        {**d, "versions": [v for v in versions if str(v["document_id"]) == str(d["id"])]} for d in dossier.documents
    ]
    workflows = [
        {**w, "steps": [s for s in dossier.steps if str(s["workflow_id"]) == str(w["id"])]} for w in dossier.workflows
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("person.json", dump(dossier.profile))
        zf.writestr("documents.json", dump(documents))
        zf.writestr("workflows.json", dump(workflows))
        zf.writestr("audit.json", dump(list(dossier.audit)))
        for version, data in contents.items():
            if data is not None:
                zf.writestr(file_entry(version), data)
    return buffer.getvalue()

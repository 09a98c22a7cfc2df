"""A person's rows for an erasure (the ``PersonalData`` port), on the request's database handle:
under row-level security, so a caller never reaches another company's person even here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from domains.document.model import UPLOAD_PREFIX, object_key
from domains.privacy.export import Dossier
from domains.privacy.retention import HeldDocument

ERASED_TITLE = "Erased"
ERASED_DOMAIN = "erased.invalid"

_COMPANY = sa.text("SELECT company_id FROM users WHERE id = :id AND deleted_at IS NULL")
_DOCUMENTS = sa.text(
    "SELECT id, company_id, owner_id FROM documents WHERE owner_id = :id AND NOT (kind = ANY(:keep)) ORDER BY id"
)
_USER = sa.text(
    "UPDATE users SET full_name = :pseudonym, email = :email, version = version + 1, updated_at = now() WHERE id = :id"
)
_DOCUMENT_FIELDS = sa.text(
    "UPDATE documents SET title = :title, note = NULL, rejection_reason = NULL, pending_file_name = NULL,"
    " version = version + 1, updated_at = now() WHERE owner_id = :id AND NOT (kind = ANY(:keep))"
)
_FILE_NAMES = sa.text(
    "UPDATE document_versions SET file_name = :title WHERE document_id IN"
    " (SELECT id FROM documents WHERE owner_id = :id AND NOT (kind = ANY(:keep)))"
)
_WORKFLOWS = sa.text(
    "UPDATE workflows SET title = :title, cancel_reason = NULL, version = version + 1, updated_at = now()"
    " WHERE subject_id = :id"
)

# A dossier's rows, each as JSON (the export's archive lists them as stored).
_DOSSIER = {
    "profile": "SELECT row_to_json(t)::text FROM users t WHERE id = :id",
    "documents": "SELECT row_to_json(t)::text FROM documents t WHERE owner_id = :id ORDER BY created_at, id",
    "versions": "SELECT row_to_json(t)::text FROM document_versions t WHERE document_id IN"
    " (SELECT id FROM documents WHERE owner_id = :id) ORDER BY document_id, version",
    "workflows": "SELECT row_to_json(t)::text FROM workflows t WHERE subject_id = :id ORDER BY created_at, id",
    "steps": "SELECT row_to_json(t)::text FROM workflow_steps t WHERE workflow_id IN"
    " (SELECT id FROM workflows WHERE subject_id = :id) ORDER BY workflow_id, position",
    "audit": "SELECT row_to_json(t)::text FROM audit_entries t WHERE subject_id = :id OR entity_id = :id ORDER BY seq",
}


class SqlPersonalData:
    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def company_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        found = (await self.db.execute(_COMPANY, {"id": user_id})).scalar_one_or_none()
        return found if isinstance(found, uuid.UUID) else None

    async def file_prefixes(self, user_id: uuid.UUID, keep_kinds: Collection[str]) -> Sequence[str]:
        rows = (await self.db.execute(_DOCUMENTS, {"id": user_id, "keep": sorted(keep_kinds)})).all()
        prefixes: list[str] = []
        for row in rows:
            id, company_id, owner_id = row.id, row.company_id, row.owner_id
            # Every version's file and every ticket's upload lie under the document's own folder
            # (``domains/document/model.py``: object_key, upload_key).
            folder = object_key(company_id, owner_id, id, 0).rpartition("/")[0] + "/"
            prefixes += [folder, f"{UPLOAD_PREFIX}/{folder}"]
        return prefixes

    async def pseudonymise(self, user_id: uuid.UUID, pseudonym: str, keep_kinds: Collection[str]) -> None:
        keep = sorted(keep_kinds)
        await self.db.execute(_FILE_NAMES, {"id": user_id, "keep": keep, "title": ERASED_TITLE})
        await self.db.execute(_DOCUMENT_FIELDS, {"id": user_id, "keep": keep, "title": ERASED_TITLE})
        await self.db.execute(_WORKFLOWS, {"id": user_id, "title": f"{ERASED_TITLE} ({pseudonym})"})
        await self.db.execute(_USER, {"id": user_id, "pseudonym": pseudonym, "email": f"{pseudonym}@{ERASED_DOMAIN}"})

    async def dossier(self, user_id: uuid.UUID) -> Dossier:
        rows: dict[str, list[dict[str, object]]] = {}
        for part, statement in _DOSSIER.items():
            found = (await self.db.execute(sa.text(statement), {"id": user_id})).scalars().all()
            rows[part] = [json.loads(text) for text in found]
        return Dossier(
            profile=rows["profile"][0] if rows["profile"] else None,
            documents=rows["documents"],
            versions=rows["versions"],
            workflows=rows["workflows"],
            steps=rows["steps"],
            audit=rows["audit"],
        )


_HELD = "SELECT d.id, d.company_id, d.owner_id, d.kind FROM documents d"
_DUE = sa.text(
    _HELD + " JOIN users u ON u.id = d.owner_id WHERE d.deleted_at IS NULL AND d.kind = :kind"
    " AND d.updated_at < :cutoff AND NOT coalesce(u.legal_hold, false) ORDER BY d.id"
)
_RETIRE = sa.text(
    "UPDATE documents SET deleted_at = :at, title = :title, note = NULL, rejection_reason = NULL,"
    " pending_file_name = NULL, version = version + 1, updated_at = now() WHERE id = ANY(:ids)"
)
_RETIRE_FILES = sa.text("UPDATE document_versions SET file_name = :title WHERE document_id = ANY(:ids)")
_DELETED = sa.text(_HELD + " WHERE d.deleted_at IS NOT NULL AND d.deleted_at < :cutoff ORDER BY d.id")
_ABANDONED = sa.text(_HELD + " WHERE d.pending_expires_at IS NOT NULL AND d.pending_expires_at < :cutoff ORDER BY d.id")
_FORGET = sa.text(
    "UPDATE documents SET pending_expires_at = NULL, pending_file_name = NULL, pending_content_type = NULL,"
    " pending_size_bytes = NULL WHERE id = ANY(:ids)"
)
RETIRED_TITLE = "Deleted under retention"


def _held(rows: Sequence[sa.Row[Any]]) -> list[HeldDocument]:
    return [
        HeldDocument(
            r.id,
            r.company_id,
            r.owner_id,
            str(r.kind),
            object_key(r.company_id, r.owner_id, r.id, 0).rpartition("/")[0] + "/",
        )
        for r in rows
    ]


class SqlRetention:
    """The ``RetentionStore`` port: run by the worker as the owner (outside row-level security)."""

    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def due(self, cutoffs: Mapping[str, datetime]) -> Sequence[HeldDocument]:
        found: list[HeldDocument] = []
        for kind, cutoff in sorted(cutoffs.items()):
            found += _held((await self.db.execute(_DUE, {"kind": kind, "cutoff": cutoff})).all())
        return found

    async def retire(self, ids: Sequence[uuid.UUID], at: datetime) -> None:
        if ids:
            await self.db.execute(_RETIRE_FILES, {"ids": list(ids), "title": RETIRED_TITLE})
            await self.db.execute(_RETIRE, {"ids": list(ids), "at": at, "title": RETIRED_TITLE})

    async def deleted_before(self, cutoff: datetime) -> Sequence[HeldDocument]:
        return _held((await self.db.execute(_DELETED, {"cutoff": cutoff})).all())

    async def abandoned_before(self, cutoff: datetime) -> Sequence[HeldDocument]:
        return _held((await self.db.execute(_ABANDONED, {"cutoff": cutoff})).all())

    async def forget_tickets(self, ids: Sequence[uuid.UUID]) -> None:
        if ids:
            await self.db.execute(_FORGET, {"ids": list(ids)})

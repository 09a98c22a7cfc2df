"""The files of documents (``document_versions``): the ``DocumentFiles`` port in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sql.database import RequestDatabase
from domains.document.analysis import Analysis
from domains.document.model import DocumentFile

DOCUMENT_VERSIONS = sa.Table(
    "document_versions",
    sa.MetaData(),
    sa.Column("document_id", sa.Uuid(), sa.ForeignKey("documents.id"), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("object_key", sa.String(400), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("uploaded_by", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("analysis", JSONB(), nullable=True),
)

_COLUMNS = (
    "document_id",
    "version",
    "object_key",
    "file_name",
    "content_type",
    "size_bytes",
    "sha256",
    "uploaded_at",
    "uploaded_by",
)


class SqlDocumentFiles:
    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def add(self, file: DocumentFile) -> None:
        await self.db.execute(sa.insert(DOCUMENT_VERSIONS).values({c: getattr(file, c) for c in _COLUMNS}))

    async def for_documents(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DocumentFile]]:
        found: dict[uuid.UUID, list[DocumentFile]] = {i: [] for i in ids}
        if not ids:
            return found
        t = DOCUMENT_VERSIONS
        query = sa.select(t).where(t.c.document_id.in_(list(set(ids)))).order_by(t.c.document_id, t.c.version.desc())
        for row in (await self.db.execute(query)).mappings():
            found[row["document_id"]].append(_file(row))
        return found

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentFile | None:
        t = DOCUMENT_VERSIONS
        query = sa.select(t).where(t.c.document_id == document_id, t.c.version == version)
        row = (await self.db.execute(query)).mappings().first()
        return None if row is None else _file(row)

    async def record_analysis(self, document_id: uuid.UUID, version: int, analysis: Analysis) -> None:
        t = DOCUMENT_VERSIONS
        await self.db.execute(
            sa.update(t)
            .where(t.c.document_id == document_id, t.c.version == version)
            .values(analysis=analysis.to_json())
        )


def _file(row: sa.RowMapping) -> DocumentFile:
    stored = row["analysis"]
    analysis = None if stored is None else Analysis.from_json(stored)
    return DocumentFile(**{c: row[c] for c in _COLUMNS}, analysis=analysis)

"""Tables derived from the entity declarations. Migrations are written against this metadata
(``alembic revision --autogenerate``) and a test checks that the two never drift apart."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.sql.audit import AUDIT_TABLES
from adapters.sql.documents import DOCUMENT_VERSIONS
from adapters.sql.jobs import JOB_TABLES
from adapters.sql.notifications import NOTIFICATION_TABLES
from adapters.sql.outbox import EVENTS
from domains.kernel.entity import EntitySpec, Field, FieldType, Registry

_TYPES: dict[FieldType, Any] = {
    FieldType.INT: sa.Integer(),
    FieldType.FLOAT: sa.Float(),
    FieldType.BOOL: sa.Boolean(),
    FieldType.DATE: sa.Date(),
    FieldType.DATETIME: sa.DateTime(timezone=True),
    FieldType.ID: sa.Uuid(),
    FieldType.ENUM: sa.String(64),
}


def _column(spec: EntitySpec[Any], f: Field, registry: Registry) -> sa.Column[Any]:
    if f.type is FieldType.STRING:
        type_: Any = sa.String(f.max_length) if f.max_length else sa.Text()
    else:
        type_ = _TYPES[f.type]
    args: list[Any] = [type_]
    if f.references:
        args.append(sa.ForeignKey(f"{registry[f.references].table}.id"))
    return sa.Column(
        f.name,
        *args,
        nullable=not f.required,
        unique=f.unique or None,
        index=(bool(f.references or f.sortable) and not f.is_unique) or None,
    )


def build_tables(registry: Registry, metadata: sa.MetaData | None = None) -> dict[str, sa.Table]:
    metadata = metadata or sa.MetaData()
    tables: dict[str, sa.Table] = {}
    for spec in registry:
        tables[spec.name] = sa.Table(
            spec.table,
            metadata,
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
            *(_column(spec, f, registry) for f in spec.fields),
            sa.Index(f"ix_{spec.table}_created_at_id", "created_at", "id"),
            *(
                # named like PostgreSQL names a one-column unique constraint: <table>_<columns>_key
                sa.UniqueConstraint(f.unique_within, f.name, name=f"{spec.table}_{f.unique_within}_{f.name}_key")
                for f in spec.fields
                if f.unique_within
            ),
        )
    EVENTS.to_metadata(metadata)
    DOCUMENT_VERSIONS.to_metadata(metadata)
    for table in (*JOB_TABLES, *NOTIFICATION_TABLES):
        table.to_metadata(metadata)
    for table in AUDIT_TABLES:
        table.to_metadata(metadata)
    return tables

"""The audit trail's tables, its appends and its reads.

``audit_entries`` is append-only for the application: a trigger (migration 0012) refuses every
UPDATE, DELETE and TRUNCATE, whoever runs them (only a superuser who disables the trigger can
tamper, and ``python -m app audit verify`` then finds the entry). Appends are serialised by
the one row of ``audit_head``: a transaction locks it (``FOR UPDATE``), chains its entries
after the head's hash, inserts them and moves the head, all before it commits; the next
writer waits for that commit and chains after it. Two statements per writing transaction.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from domains.audit.chain import GENESIS, StoredEntry, canonical_json, chain_hash
from domains.audit.service import AuditFilter, AuditScope
from domains.kernel.audit import AuditEntry, AuditOrigin

HEAD_ID = 1

AUDIT_ENTRIES = sa.Table(
    "audit_entries",
    sa.MetaData(),
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.Uuid(), nullable=True),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
    sa.Column("company_id", sa.Uuid(), nullable=True),
    sa.Column("subject_id", sa.Uuid(), nullable=True),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.Uuid(), nullable=True),
    # Text, not JSONB: the bytes hashed are the bytes kept (JSONB would renormalise numbers).
    sa.Column("changes", sa.Text(), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("client_address", sa.String(64), nullable=True),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_entries_company_id_seq", "company_id", "seq"),
    sa.Index("ix_audit_entries_subject_id_seq", "subject_id", "seq"),
    sa.Index("ix_audit_entries_entity_id", "entity_id"),
)

AUDIT_HEAD = sa.Table(
    "audit_head",
    AUDIT_ENTRIES.metadata,
    sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

AUDIT_TABLES = (AUDIT_ENTRIES, AUDIT_HEAD)


class Executor(Protocol):
    async def execute(self, statement: sa.Executable) -> sa.CursorResult[Any]: ...


def _stored(entry: AuditEntry, origin: AuditOrigin, seq: int) -> StoredEntry:
    return StoredEntry(
        seq=seq,
        occurred_at=entry.occurred_at,
        actor_id=origin.actor_id,
        actor_role=origin.role,
        on_behalf_of=entry.on_behalf_of,
        company_id=entry.company_id,
        subject_id=entry.subject_id,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        # through JSON once: what is hashed is what a reader parses back
        changes=json.loads(canonical_json(dict(entry.changes))),
        request_id=(origin.request_id or None) and origin.request_id[:64],
        client_address=(origin.client_address or None) and origin.client_address[:64],
    )


def _row(entry: StoredEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "on_behalf_of": entry.on_behalf_of,
        "company_id": entry.company_id,
        "subject_id": entry.subject_id,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "changes": canonical_json(entry.changes),
        "request_id": entry.request_id,
        "client_address": entry.client_address,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }


def entry_of(row: Any) -> StoredEntry:
    return StoredEntry(
        seq=row["seq"],
        occurred_at=row["occurred_at"],
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        on_behalf_of=row["on_behalf_of"],
        company_id=row["company_id"],
        subject_id=row["subject_id"],
        action=row["action"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        changes=json.loads(row["changes"]),
        request_id=row["request_id"],
        client_address=row["client_address"],
        previous_hash=row["previous_hash"],
        hash=row["hash"],
    )


LOCK_HEAD = sa.select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == HEAD_ID).with_for_update()


class SqlAuditLog:
    """The kernel's ``AuditLog`` port on one database handle, inside its transaction."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    async def append(self, origin: AuditOrigin, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        head = (await self.db.execute(LOCK_HEAD)).one()
        seq, previous = int(head.seq), str(head.hash)
        rows = []
        for entry in entries:
            seq += 1
            stored = _stored(entry, origin, seq)
            digest = chain_hash(previous, stored)
            rows.append(_row(StoredEntry(**{**stored.__dict__, "previous_hash": previous, "hash": digest})))
            previous = digest
        inserted = sa.insert(AUDIT_ENTRIES).values(rows).cte("inserted")
        move = sa.update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == HEAD_ID).values(seq=seq, hash=previous).add_cte(inserted)
        await self.db.execute(move)


class SqlAuditEntries:
    """``domains.audit.service.AuditEntries``: the reads of ``auditTrail``."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    async def find(
        self, scope: AuditScope, filter: AuditFilter, before_seq: int | None, limit: int
    ) -> Sequence[StoredEntry]:
        t = AUDIT_ENTRIES
        conditions: list[Any] = []
        for column, value in (
            (t.c.company_id, scope.company_id),
            (t.c.subject_id, scope.subject_id),
            (t.c.action, scope.action),
            (t.c.subject_id, filter.person_id),
            (t.c.entity, filter.entity),
            (t.c.entity_id, filter.entity_id),
            (t.c.action, filter.action),
        ):
            if value is not None:
                conditions.append(column == value)
        if filter.since is not None:
            conditions.append(t.c.occurred_at >= filter.since)
        if filter.until is not None:
            conditions.append(t.c.occurred_at < filter.until)
        if before_seq is not None:
            conditions.append(t.c.seq < before_seq)
        query = sa.select(t).where(*conditions).order_by(t.c.seq.desc()).limit(limit)
        return [entry_of(row) for row in (await self.db.execute(query)).mappings()]



async def all_entries(connection: Any, batch: int = 1000) -> AsyncIterator[StoredEntry]:
    """Every entry in ``seq`` order, a batch at a time (``python -m app audit verify``)."""
    after = 0
    while True:
        query = sa.select(AUDIT_ENTRIES).where(AUDIT_ENTRIES.c.seq > after).order_by(AUDIT_ENTRIES.c.seq).limit(batch)
        rows = (await connection.execute(query)).mappings().all()
        for row in rows:
            yield entry_of(row)
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


async def head(connection: Any) -> tuple[int, str]:
    found = (await connection.execute(sa.select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash))).first()
    return (0, GENESIS) if found is None else (int(found.seq), str(found.hash))


__all__ = ["AUDIT_TABLES", "SqlAuditEntries", "SqlAuditLog", "all_entries", "head"]

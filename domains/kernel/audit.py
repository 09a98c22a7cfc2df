"""What the audit trail is told: who acted (the operation's origin) and what changed (one
``AuditEntry`` per saved entity, per download link issued, per export).

The unit of work collects the entries of its transaction and appends them, with the events,
before it commits (``domains/kernel/unit_of_work.py``): a change and its audit entry commit
together or not at all. The trail itself, its hash chain and who may read it, is the audit
context's (``domains/audit/``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domains.kernel.entity import EntitySpec, all_fields, utcnow
from domains.kernel.events import DomainEvent, camel, json_value
from domains.kernel.principal import Principal

SYSTEM_ROLE = "SYSTEM"
"""The role an entry names when no person acted (the seed, the CLI, a worker)."""
DOWNLOAD_LINK_ISSUED = "DownloadLinkIssued"
EXPORT_ISSUED = "ExportIssued"
RETENTION_APPLIED = "RetentionApplied"
FILES_SWEPT = "FilesSwept"
NOT_AUDITED = ("version", "updated_at")  # move with every save; they say nothing of the change


@dataclass(frozen=True)
class AuditOrigin:
    """Who and where the operation came from: set once per operation by the composition root."""

    actor_id: uuid.UUID | None = None
    role: str = SYSTEM_ROLE
    request_id: str | None = None
    client_address: str | None = None

    @classmethod
    def of(cls, actor: Principal | None, request_id: str | None, client_address: str | None) -> AuditOrigin:
        if actor is None:
            return cls(request_id=request_id, client_address=client_address)
        role = "ADMIN" if actor.is_admin else ",".join(sorted(r.value for r in actor.roles))
        return cls(actor.user_id, role, request_id, client_address)


@dataclass(frozen=True)
class AuditEntry:
    """One change or access. ``subject_id`` is the person the data is about (a document's
    owner, a workflow's subject, the user herself); ``on_behalf_of`` the person a change was
    made for when that is not the operation's actor (a reaction, a worker)."""

    action: str
    entity: str
    entity_id: uuid.UUID | None
    company_id: uuid.UUID | None
    subject_id: uuid.UUID | None = None
    on_behalf_of: uuid.UUID | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)


class AuditLog(Protocol):
    """Where entries are appended, in the transaction of their change (``adapters/sql/audit.py``)."""

    async def append(self, origin: AuditOrigin, entries: Sequence[AuditEntry]) -> None: ...


class AuditRecorder(Protocol):
    """What a command uses for an entry that is not a saved entity (a download link, an
    export): recorded in the current transaction, or in one of its own outside any."""

    async def record(self, entries: Sequence[AuditEntry]) -> None: ...


def changes(spec: EntitySpec[Any], before: Mapping[str, Any] | None, entity: Any) -> dict[str, Any]:
    """``{field: {"old": ..., "new": ...}}`` for each declared field that changed (all of them
    on create), camelCase keys, JSON values; a secret field says ``{"secret": true}`` only."""
    found: dict[str, Any] = {}
    for f in all_fields(spec):
        if f.name in NOT_AUDITED or (before is None and f.name in ("created_at", "deleted_at")):
            continue
        old = None if before is None else json_value(before.get(f.name))
        new = json_value(getattr(entity, f.name))
        if before is not None and old == new:
            continue
        if before is None and new is None:
            continue
        found[camel(f.name)] = {"secret": True} if f.secret else {"old": old, "new": new}
    return found


def subject_of(spec: EntitySpec[Any], entity: Any) -> uuid.UUID | None:
    if spec.owner_field is None:
        return None
    value = getattr(entity, spec.owner_field, None)
    return value if isinstance(value, uuid.UUID) else None


def action_of(before: Mapping[str, Any] | None, entity: Any, pending: Sequence[DomainEvent]) -> str:
    """The latest event the entity recorded (a command's move), else the generic verb."""
    if pending:
        return pending[-1].type
    if before is None:
        return "create"
    if before.get("deleted_at") is None and getattr(entity, "deleted_at", None) is not None:
        return "delete"
    if before.get("deleted_at") is not None and getattr(entity, "deleted_at", None) is None:
        return "restore"
    return "update"


def change_entry(
    spec: EntitySpec[Any], before: Mapping[str, Any] | None, entity: Any, origin: AuditOrigin
) -> AuditEntry:
    pending: list[DomainEvent] = list(entity.__dict__.get("_events", ()))
    behalf = next((e.actor_id for e in reversed(pending) if e.actor_id is not None), None)
    tenant = getattr(entity, spec.tenant_field, None)
    return AuditEntry(
        action=action_of(before, entity, pending),
        entity=spec.name,
        entity_id=entity.id,
        company_id=tenant if isinstance(tenant, uuid.UUID) else None,
        subject_id=subject_of(spec, entity),
        on_behalf_of=behalf if behalf != origin.actor_id else None,
        changes=changes(spec, before, entity),
    )

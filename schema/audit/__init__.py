"""The audit trail's GraphQL: ``auditTrail(filter, first, after)``, newest first.

HR reads their company's entries, ADMIN everyone's, an EMPLOYEE the download links issued for
her own documents (``domains/audit/service.py`` decides, the store applies it)."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import TYPE_CHECKING, Any

import strawberry

from domains.audit.chain import StoredEntry
from domains.audit.service import AuditFilter, AuditTrail
from domains.kernel.errors import Invalid
from domains.kernel.ids import from_global_id, to_global_id
from schema.connection import PageInfo
from schema.context import Info
from schema.domain import DomainSchema
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def _trail(info: Info) -> AuditTrail:
    return info.context.commands.audit


def _gid(type_name: str, id: uuid.UUID | None) -> strawberry.ID | None:
    return None if id is None else strawberry.ID(to_global_id(type_name, id))


@strawberry.type(description="One field of a change: old and new value as JSON text; a secret field shows neither.")
class AuditChange:
    field: str
    old: str | None
    new: str | None
    secret: bool


@strawberry.type(description="One entry of the audit trail: who did what to which record, when and from where.")
class AuditEntry:
    seq: int = strawberry.field(description="Its place in the hash chain, from 1.")
    occurred_at: datetime.datetime
    actor_id: strawberry.ID | None = strawberry.field(description="The user who acted; null for the system.")
    actor_role: str = strawberry.field(description="EMPLOYEE, HR, ADMIN, or SYSTEM.")
    on_behalf_of_id: strawberry.ID | None = strawberry.field(
        description="The user the change was made for, when not the actor (a reaction, a worker)."
    )
    company_id: strawberry.ID | None
    person_id: strawberry.ID | None = strawberry.field(description="The person the record is about.")
    action: str = strawberry.field(
        description="create, update, delete, restore, a command's event (DocumentApproved, ...),"
        " DownloadLinkIssued or ExportIssued."
    )
    entity: str
    entity_id: strawberry.ID | None
    changes: list[AuditChange]
    request_id: str | None
    client_address: str | None
    hash: str

    @classmethod
    def of(cls, entry: StoredEntry) -> AuditEntry:
        changes = [
            AuditChange(
                field=name,
                old=None if value.get("secret") else json.dumps(value.get("old")),
                new=None if value.get("secret") else json.dumps(value.get("new")),
                secret=bool(value.get("secret")),
            )
            for name, value in sorted(entry.changes.items())
        ]
        return cls(
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            actor_id=_gid("User", entry.actor_id),
            actor_role=entry.actor_role,
            on_behalf_of_id=_gid("User", entry.on_behalf_of),
            company_id=_gid("Company", entry.company_id),
            person_id=_gid("User", entry.subject_id),
            action=entry.action,
            entity=entry.entity,
            entity_id=_gid(entry.entity, entry.entity_id),
            changes=changes,
            request_id=entry.request_id,
            client_address=entry.client_address,
            hash=entry.hash,
        )


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type(description="A page of audit entries, newest first.")
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo


def _any_id(value: str, entity: str | None) -> uuid.UUID:
    if entity is not None:
        return parse_id(value, entity, "filter.entityId")
    try:
        return from_global_id(value)[1]
    except ValueError:
        raise Invalid.field("filter.entityId", "is not a valid id") from None


@strawberry.input(description="Which entries: all the given conditions hold.")
class AuditTrailFilter:
    person_id: strawberry.ID | None = strawberry.field(default=None, description="About this person.")
    entity: str | None = strawberry.field(default=None, description="Of this kind of record (Document, User, ...).")
    entity_id: strawberry.ID | None = strawberry.field(default=None, description="Of this one record.")
    action: str | None = None
    since: datetime.datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime.datetime | None = strawberry.field(default=None, description="Before.")

    def domain(self) -> AuditFilter:
        return AuditFilter(
            person_id=parse_id(self.person_id, "User", "filter.personId") if self.person_id else None,
            entity=self.entity,
            entity_id=_any_id(self.entity_id, self.entity) if self.entity_id else None,
            action=self.action,
            since=self.since,
            until=self.until,
        )


def audit_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def audit_trail(
        info: Info, filter: AuditTrailFilter | None = None, first: int | None = None, after: str | None = None
    ) -> AuditEntryConnection:
        wanted = filter.domain() if filter is not None else AuditFilter()
        page = await _trail(info).read(info.context.viewer, wanted, first, after)
        edges = [AuditEntryEdge(cursor=page.cursor(e), node=AuditEntry.of(e)) for e in page.entries]
        return AuditEntryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    return {
        "audit_trail": strawberry.field(
            resolver=audit_trail,
            description="Who changed what, and which download links were issued, newest first: HR sees the"
            " company's entries, ADMIN everyone's, an EMPLOYEE the downloads of her own documents.",
        )
    }


AUDIT_SCHEMA = DomainSchema(name="audit", queries=audit_queries, types=(AuditEntry,))

__all__ = ["AUDIT_SCHEMA"]

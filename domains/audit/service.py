"""Who reads which audit entries: HR their company's, ADMIN everyone's, an EMPLOYEE the
download links issued for her own documents. Newest first, paged by an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domains.audit.chain import StoredEntry
from domains.kernel.audit import DOWNLOAD_LINK_ISSUED
from domains.kernel.errors import Invalid
from domains.kernel.principal import Principal, Role

MAX_PAGE = 100
DEFAULT_PAGE = 20


@dataclass(frozen=True)
class AuditFilter:
    person_id: uuid.UUID | None = None
    """Entries about this person (a document's owner, a workflow's subject, the user)."""
    entity: str | None = None
    entity_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditScope:
    """What the actor may see, ANDed into every read: None is no restriction."""

    company_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None
    action: str | None = None


class AuditEntries(Protocol):
    async def find(
        self, scope: AuditScope, filter: AuditFilter, before_seq: int | None, limit: int
    ) -> Sequence[StoredEntry]:
        """Newest first, at most ``limit``, below ``before_seq`` when given."""
        ...


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[StoredEntry]
    has_next: bool

    def cursor(self, entry: StoredEntry) -> str:
        return base64.urlsafe_b64encode(f"audit:{entry.seq}".encode()).decode()


def scope_of(actor: Principal) -> AuditScope:
    if actor.is_admin:
        return AuditScope()
    if Role.HR in actor.roles:
        return AuditScope(company_id=actor.company_id)
    return AuditScope(company_id=actor.company_id, subject_id=actor.user_id, action=DOWNLOAD_LINK_ISSUED)


def read_cursor(value: str) -> int:
    try:
        kind, _, seq = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
        if kind == "audit" and seq.isdigit():
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Invalid.field("after", "is not a cursor of the audit trail")


class AuditTrail:
    def __init__(self, entries: AuditEntries) -> None:
        self.entries = entries

    async def read(
        self, actor: Principal, filter: AuditFilter, first: int | None = None, after: str | None = None
    ) -> AuditPage:
        size = DEFAULT_PAGE if first is None else first
        if not 0 <= size <= MAX_PAGE:
            raise Invalid.field("first", f"must be between 0 and {MAX_PAGE}")
        if filter.since is not None and filter.until is not None and filter.since > filter.until:
            raise Invalid.field("filter", "since must not be after until")
        before = read_cursor(after) if after is not None else None
        found = await self.entries.find(scope_of(actor), filter, before, size + 1)
        return AuditPage(found[:size], has_next=len(found) > size)

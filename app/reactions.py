"""Where one context meets another, and the only place: the bus's table (which context reacts
to which event), the ports one context fills with another's services, and the event types the
webhook context may deliver. The table is built once per process (``Container.bus``).

The workflow context never imports the document context: the handlers here read the
document's typed events and tell the workflow plain values.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.auth.sign_in import SYSTEM
from domains.catalog import Commands
from domains.document.events import EVENT_TYPES as DOCUMENT_EVENTS
from domains.document.events import DocumentApproved, DocumentEvent, DocumentRejected, DocumentSubmitted
from domains.document.model import DocumentKind
from domains.kernel.bus import MessageBus
from domains.kernel.crud import EntityService
from domains.kernel.principal import Principal, Role
from domains.workflow.events import EVENT_TYPES as WORKFLOW_EVENTS
from domains.workflow.service import DocumentReview

WEBHOOK_EVENT_TYPES = frozenset({*DOCUMENT_EVENTS, *WORKFLOW_EVENTS})
"""The event types a webhook endpoint may subscribe to: every published one."""
DOCUMENT_KINDS = frozenset(kind.value for kind in DocumentKind)

REVIEWS: dict[type[DocumentEvent], DocumentReview] = {
    DocumentSubmitted: DocumentReview.SUBMITTED,
    DocumentApproved: DocumentReview.APPROVED,
    DocumentRejected: DocumentReview.REJECTED,
}


async def step_follows_document(event: DocumentEvent, commands: Commands) -> None:
    """A review moves the workflow step waiting for the document, in the review's transaction."""
    await commands.workflow.on_document_reviewed(event.document_id, REVIEWS[type(event)], event.actor_id)


def build_bus() -> MessageBus[Commands]:
    bus: MessageBus[Commands] = MessageBus()
    for event_type in REVIEWS:
        bus.subscribe(event_type, step_follows_document)
    return bus


class DocumentsFromService:
    """``domains.workflow.ports.DocumentRequests`` through the generic Document service."""

    def __init__(self, documents: EntityService[Any]) -> None:
        self.documents = documents

    async def request(
        self,
        actor: Principal | None,
        *,
        company_id: uuid.UUID,
        owner_id: uuid.UUID,
        kind: str,
        title: str,
        due_on: date,
    ) -> uuid.UUID:
        data = {"company_id": company_id, "owner_id": owner_id, "kind": DocumentKind(kind), "title": title}
        document = await self.documents.create(actor or SYSTEM, {**data, "due_on": due_on})
        return uuid.UUID(str(document.id))

    def kinds(self) -> frozenset[str]:
        return DOCUMENT_KINDS


class PeopleFromService:
    """``domains.workflow.ports.People`` through the generic User service."""

    def __init__(self, users: EntityService[Any]) -> None:
        self.users = users

    async def company_of(self, actor: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        user = await self.users.get(actor, user_id)
        return None if user is None else uuid.UUID(str(user.company_id))

    async def manager_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        user = await self.users.get(SYSTEM, user_id)
        return None if user is None or user.manager_id is None else uuid.UUID(str(user.manager_id))

    async def roles_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Role]:
        users = await self.users.get_many(SYSTEM, list(user_ids)) if user_ids else []
        return {u.id: u.role for u in users if u is not None}

    async def members(self, company_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
        users = await self.users.get_many(SYSTEM, list(user_ids)) if user_ids else []
        return frozenset(u.id for u in users if u is not None and u.company_id == company_id)

    async def names_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        users = await self.users.get_many(SYSTEM, list(user_ids)) if user_ids else []
        return {u.id: u.full_name for u in users if u is not None}

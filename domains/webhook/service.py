"""Webhook endpoints as HR and ADMIN manage them: register (the secret is shown once, in the
answer), list, disable, and read an endpoint's delivery log. Everything is scoped to the
actor's company (ADMIN: every company). The writes own their transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domains.kernel.audit import AuditEntry, AuditRecorder
from domains.kernel.errors import Invalid, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional
from domains.webhook.model import check_endpoint, new_secret

MAX_DELIVERIES = 100
REFUSAL = "only HR and ADMIN manage webhooks"
PENDING = "PENDING"


@dataclass(frozen=True)
class Endpoint:
    id: uuid.UUID
    company_id: uuid.UUID
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    created_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: uuid.UUID
    event_id: int
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_response_ms: int | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookStore(Protocol):
    async def add(self, endpoint: Endpoint, secret: str, created_by: uuid.UUID) -> Endpoint: ...

    async def find(self, company_id: uuid.UUID | None) -> Sequence[Endpoint]:
        """The company's endpoints (every company's for None), oldest first."""
        ...

    async def get(self, id: uuid.UUID) -> Endpoint | None: ...

    async def set_enabled(self, id: uuid.UUID, enabled: bool) -> None: ...

    async def deliveries(self, endpoint_id: uuid.UUID, limit: int) -> Sequence[Delivery]:
        """Newest first."""
        ...

    async def delivery(self, id: int) -> Delivery | None: ...

    async def replay(self, delivery_id: int, endpoint_id: uuid.UUID) -> Delivery:
        """Back to PENDING, and its job in the queue (after the endpoint's earlier ones)."""
        ...


@dataclass(frozen=True)
class Registered:
    endpoint: Endpoint
    secret: str


class WebhookCommands:
    def __init__(
        self,
        store: WebhookStore,
        event_types: Iterable[str],
        uow: Transactional,
        audit: AuditRecorder | None = None,
    ) -> None:
        self.store = store
        self.event_types = frozenset(event_types)
        self.uow = uow
        self.audit = audit

    async def _record(self, action: str, endpoint: Endpoint, changes: dict[str, object]) -> None:
        if self.audit is not None:
            await self.audit.record(
                [AuditEntry(action, "WebhookEndpoint", endpoint.id, endpoint.company_id, changes=changes)]
            )

    async def register(self, actor: Principal, url: str, event_types: Sequence[str]) -> Registered:
        actor.require_manager(REFUSAL)
        url, types = check_endpoint(url, event_types, self.event_types)
        secret = new_secret()
        endpoint = Endpoint(uuid.uuid4(), actor.company_id, url, tuple(types), True)
        async with self.uow.transaction():
            registered = Registered(await self.store.add(endpoint, secret, actor.user_id), secret)
            await self._record(
                "WebhookEndpointRegistered",
                endpoint,
                {
                    "url": {"old": None, "new": url},
                    "eventTypes": {"old": None, "new": list(types)},
                    "secret": {"secret": True},  # the signing secret never enters the trail
                },
            )
            return registered

    async def endpoints(self, actor: Principal) -> Sequence[Endpoint]:
        actor.require_manager(REFUSAL)
        return await self.store.find(actor.company_scope)

    async def visible(self, actor: Principal, id: uuid.UUID) -> Endpoint:
        actor.require_manager(REFUSAL)
        found = await self.store.get(id)
        if found is None or not actor.sees_company(found.company_id):
            raise NotFound("WebhookEndpoint", id)  # another company's is as absent as a missing one
        return found

    async def disable(self, actor: Principal, id: uuid.UUID) -> Endpoint:
        async with self.uow.transaction():
            found = await self.visible(actor, id)
            await self.store.set_enabled(found.id, False)
            await self._record("WebhookEndpointDisabled", found, {"enabled": {"old": found.enabled, "new": False}})
        return Endpoint(found.id, found.company_id, found.url, found.event_types, False, found.created_at)

    async def deliveries(self, actor: Principal, endpoint: Endpoint, first: int) -> Sequence[Delivery]:
        if not actor.sees_company(endpoint.company_id):
            raise NotFound("WebhookEndpoint", endpoint.id)
        return await self.store.deliveries(endpoint.id, max(1, min(first, MAX_DELIVERIES)))

    async def replay(self, actor: Principal, delivery_id: int) -> Delivery:
        """Sends a delivered or failed delivery again (the same message: its ``webhook-id``
        stays, so a receiver that kept it sees a repeat)."""
        actor.require_manager(REFUSAL)
        async with self.uow.transaction():
            found = await self.store.delivery(delivery_id)
            if found is None:
                raise NotFound("WebhookDelivery", delivery_id)
            endpoint = await self.visible(actor, found.endpoint_id)
            if not endpoint.enabled:
                raise Invalid.field("id", "belongs to a disabled endpoint: register it again to deliver to it")
            if found.status == PENDING:
                raise Invalid.field("id", "is being delivered already")
            return await self.store.replay(found.id, endpoint.id)

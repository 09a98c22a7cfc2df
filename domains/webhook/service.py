"""Webhook endpoints as HR and ADMIN manage them: register (the secret is shown once, in the
answer), list, disable, and read an endpoint's delivery log. Everything is scoped to the
viewer's company (ADMIN: every company)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domains.kernel.audit import AuditEntry, AuditRecorder
from domains.kernel.errors import Forbidden, NotFound
from domains.kernel.principal import Principal, Role
from domains.webhook.model import check_endpoint, new_secret

MAX_DELIVERIES = 100


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


@dataclass(frozen=True)
class Registered:
    endpoint: Endpoint
    secret: str


class WebhookCommands:
    def __init__(self, store: WebhookStore, event_types: Iterable[str], audit: AuditRecorder | None = None) -> None:
        self.store = store
        self.event_types = frozenset(event_types)
        self.audit = audit

    async def _record(self, action: str, endpoint: Endpoint, changes: dict[str, object]) -> None:
        if self.audit is not None:
            await self.audit.record(
                [AuditEntry(action, "WebhookEndpoint", endpoint.id, endpoint.company_id, changes=changes)]
            )

    @staticmethod
    def _require_manager(viewer: Principal) -> None:
        if not (viewer.is_admin or Role.HR in viewer.roles):
            raise Forbidden("only HR and ADMIN manage webhooks")

    async def register(self, viewer: Principal, url: str, event_types: Sequence[str]) -> Registered:
        self._require_manager(viewer)
        url, types = check_endpoint(url, event_types, self.event_types)
        secret = new_secret()
        endpoint = Endpoint(uuid.uuid4(), viewer.company_id, url, tuple(types), True)
        registered = Registered(await self.store.add(endpoint, secret, viewer.user_id), secret)
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

    async def endpoints(self, viewer: Principal) -> Sequence[Endpoint]:
        self._require_manager(viewer)
        return await self.store.find(None if viewer.is_admin else viewer.company_id)

    async def visible(self, viewer: Principal, id: uuid.UUID) -> Endpoint:
        self._require_manager(viewer)
        found = await self.store.get(id)
        if found is None or not (viewer.is_admin or found.company_id == viewer.company_id):
            raise NotFound("WebhookEndpoint", id)  # another company's is as absent as a missing one
        return found

    async def disable(self, viewer: Principal, id: uuid.UUID) -> Endpoint:
        found = await self.visible(viewer, id)
        await self.store.set_enabled(found.id, False)
        await self._record("WebhookEndpointDisabled", found, {"enabled": {"old": found.enabled, "new": False}})
        return Endpoint(found.id, found.company_id, found.url, found.event_types, False, found.created_at)

    async def deliveries(self, viewer: Principal, endpoint: Endpoint, first: int) -> Sequence[Delivery]:
        if not (viewer.is_admin or endpoint.company_id == viewer.company_id):
            raise NotFound("WebhookEndpoint", endpoint.id)
        return await self.store.deliveries(endpoint.id, max(1, min(first, MAX_DELIVERIES)))

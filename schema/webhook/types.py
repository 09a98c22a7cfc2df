"""GraphQL types of webhooks: endpoints, their delivery log, the registration's answer."""

from __future__ import annotations

import datetime

import strawberry

from domains.kernel.ids import to_global_id
from domains.webhook.service import Delivery, Endpoint, WebhookCommands
from schema.context import Info


def commands(info: Info) -> WebhookCommands:
    return info.context.commands.webhook


@strawberry.type(description="One event's delivery to an endpoint, with its last attempt.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's number (replayWebhookDelivery takes it).")
    event_id: strawberry.ID = strawberry.field(description="The event's id: the message's webhook-id is evt_<it>.")
    event_type: str
    status: str = strawberry.field(description="PENDING (being retried), DELIVERED or FAILED (attempts exhausted).")
    attempts: int
    last_status_code: int | None = strawberry.field(
        description="The receiver's last answer; null after a network error."
    )
    last_error: str | None
    last_response_ms: int | None = strawberry.field(description="How long the last attempt took, in milliseconds.")
    next_attempt_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    created_at: datetime.datetime

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(delivery.id)),
            event_id=strawberry.ID(str(delivery.event_id)),
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            last_response_ms=delivery.last_response_ms,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
        )


@strawberry.type(description="Where the company's events are POSTed, signed per Standard Webhooks.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    event_types: list[str]
    enabled: bool
    created_at: datetime.datetime | None
    _endpoint: strawberry.Private[Endpoint]

    @strawberry.field(description="The newest deliveries first (at most 100).")  # type: ignore[untyped-decorator]
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        found = await commands(info).deliveries(info.context.viewer, self._endpoint, first)
        return [WebhookDelivery.of(d) for d in found]

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", endpoint.id)),
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
            _endpoint=endpoint,
        )


@strawberry.type(description="The endpoint, and its signing secret: shown this once, never again.")
class RegisterWebhookEndpointPayload:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type(description="The endpoint, no longer sent anything.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint


@strawberry.input
class RegisterWebhookEndpointInput:
    url: str
    event_types: list[str] = strawberry.field(description="Event type names, e.g. DocumentApproved.")

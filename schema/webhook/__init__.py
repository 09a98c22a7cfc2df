"""The webhook domain's GraphQL: endpoints registered by HR or ADMIN, their delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

import strawberry

from schema.context import Info
from schema.domain import DomainSchema
from schema.errors import MUTATION_ERRORS
from schema.factory import parse_id
from schema.webhook.mutations import replay_webhook_delivery
from schema.webhook.types import (
    RegisterWebhookEndpointInput,
    RegisterWebhookEndpointPayload,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointPayload,
    commands,
)

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory

_REGISTER: Any = (RegisterWebhookEndpointPayload, *MUTATION_ERRORS)
_DISABLE: Any = (WebhookEndpointPayload, *MUTATION_ERRORS)
RegisterResult = Annotated[Union[_REGISTER], strawberry.union("RegisterWebhookEndpointResult")]  # noqa: UP007
DisableResult = Annotated[Union[_DISABLE], strawberry.union("DisableWebhookEndpointResult")]  # noqa: UP007


def webhook_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def webhook_endpoints(info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.of(e) for e in await commands(info).endpoints(info.context.viewer)]

    return {
        "webhook_endpoints": strawberry.field(
            resolver=webhook_endpoints, description="The company's webhook endpoints (HR, ADMIN), oldest first."
        )
    }


def webhook_mutations(_: EntitySchemaFactory) -> dict[str, Any]:
    async def register_webhook_endpoint(info: Info, input: RegisterWebhookEndpointInput) -> Any:
        async with info.context.transaction():
            registered = await commands(info).register(info.context.viewer, input.url, input.event_types)
        return RegisterWebhookEndpointPayload(
            endpoint=WebhookEndpoint.of(registered.endpoint), secret=registered.secret
        )

    async def disable_webhook_endpoint(info: Info, id: strawberry.ID) -> Any:
        key = parse_id(id, "WebhookEndpoint", "id")
        async with info.context.transaction():
            endpoint = await commands(info).disable(info.context.viewer, key)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint))

    register_webhook_endpoint.__annotations__["return"] = RegisterResult
    disable_webhook_endpoint.__annotations__["return"] = DisableResult
    return {
        "register_webhook_endpoint": strawberry.field(
            resolver=register_webhook_endpoint,
            description="HR or ADMIN: a URL to POST the company's events of these types to. The answer holds"
            " the signing secret, shown this once.",
        ),
        "disable_webhook_endpoint": strawberry.field(
            resolver=disable_webhook_endpoint, description="Stops deliveries to the endpoint (HR, ADMIN)."
        ),
        "replay_webhook_delivery": replay_webhook_delivery.FIELD,
    }


WEBHOOK_SCHEMA = DomainSchema(
    name="webhook",
    queries=webhook_queries,
    mutations=webhook_mutations,
    types=(WebhookDelivery,),
)

__all__ = ["WEBHOOK_SCHEMA"]

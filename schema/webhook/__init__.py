"""The webhook domain's GraphQL: endpoints registered by HR or ADMIN, their delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Info
from schema.domain import DomainSchema
from schema.webhook.mutations import webhook_mutations
from schema.webhook.types import WebhookDelivery, WebhookEndpoint, commands

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def webhook_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def webhook_endpoints(info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.of(e) for e in await commands(info).endpoints(info.context.viewer)]

    return {
        "webhook_endpoints": strawberry.field(
            resolver=webhook_endpoints, description="The company's webhook endpoints (HR, ADMIN), oldest first."
        )
    }


WEBHOOK_SCHEMA = DomainSchema(
    name="webhook",
    queries=webhook_queries,
    mutations=webhook_mutations,
    types=(WebhookDelivery,),
)

__all__ = ["WEBHOOK_SCHEMA"]

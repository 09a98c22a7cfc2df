"""disableWebhookEndpoint: stops deliveries to the endpoint (HR, ADMIN)."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.factory import parse_id
from schema.webhook.types import WebhookEndpoint, WebhookEndpointPayload, commands

_MEMBERS: Any = (WebhookEndpointPayload, *MUTATION_ERRORS)
RESULT = Annotated[Union[_MEMBERS], strawberry.union("DisableWebhookEndpointResult")]  # noqa: UP007


async def disable_webhook_endpoint(info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
    key = parse_id(id, "WebhookEndpoint", "id")
    endpoint = await commands(info).disable(info.context.viewer, key)
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint))


MUTATION = StaticMutation(disable_webhook_endpoint, RESULT, "Stops deliveries to the endpoint (HR, ADMIN).")

"""registerWebhookEndpoint: HR or ADMIN name a URL for the company's events; the answer holds
the signing secret, shown this once."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.webhook.types import RegisterWebhookEndpointInput, RegisterWebhookEndpointPayload, WebhookEndpoint, commands

_MEMBERS: Any = (RegisterWebhookEndpointPayload, *MUTATION_ERRORS)
RESULT = Annotated[Union[_MEMBERS], strawberry.union("RegisterWebhookEndpointResult")]  # noqa: UP007


async def register_webhook_endpoint(info: Info, input: RegisterWebhookEndpointInput) -> RegisterWebhookEndpointPayload:
    registered = await commands(info).register(info.context.viewer, input.url, input.event_types)
    return RegisterWebhookEndpointPayload(endpoint=WebhookEndpoint.of(registered.endpoint), secret=registered.secret)


MUTATION = StaticMutation(
    register_webhook_endpoint,
    RESULT,
    "HR or ADMIN: a URL to POST the company's events of these types to. The answer holds"
    " the signing secret, shown this once.",
)

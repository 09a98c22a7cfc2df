"""replayWebhookDelivery(id): a delivered or failed delivery, sent again (HR, ADMIN)."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from domains.kernel.errors import Invalid
from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.webhook.types import WebhookDelivery, commands


@strawberry.type(description="The delivery, back in the queue.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery


_RESULT: Any = (WebhookDeliveryPayload, *MUTATION_ERRORS)
ReplayWebhookDeliveryResult = Annotated[Union[_RESULT], strawberry.union("ReplayWebhookDeliveryResult")]  # noqa: UP007


async def replay_webhook_delivery(info: Info, id: strawberry.ID) -> Any:
    if not str(id).isdigit() or len(str(id)) > 18:
        raise Invalid.field("id", "is not a delivery id")
    delivery = await commands(info).replay(info.context.viewer, int(str(id)))
    return WebhookDeliveryPayload(delivery=WebhookDelivery.of(delivery))


MUTATION = StaticMutation(
    replay_webhook_delivery,
    ReplayWebhookDeliveryResult,
    "Sends a DELIVERED or FAILED delivery again, as the same message (same webhook-id), after the"
    " endpoint's earlier ones (HR, ADMIN).",
)

"""Webhook endpoints that keep failing, and replays, with real worker processes and a real
receiver: an endpoint whose last deliveries all ran out of attempts is disabled and HR is told
in the app; a delivery is replayed as the same message; the log shows response times."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.jobs.queue import DELIVER
from adapters.sql.webhooks import SqlWebhookStore
from domains.kernel.ids import to_global_id
from tests.api.reviews import REJECTED, SUBMITTED, review
from tests.integration import test_jobs_process as process
from tests.integration.test_jobs_process import Receiver, _deliveries, _document_of, _endpoint, _eventually

clean_queue, smtp, workers, receiver = process.clean_queue, process.smtp, process.workers, process.receiver
pytestmark = pytest.mark.timeout(120)

ENDPOINTS = "{ webhookEndpoints { id enabled deliveries { id status attempts lastStatusCode lastResponseMs } } }"
BELL = "{ notifications(first: 5) { unreadCount edges { node { kind subjectType subjectId } } } }"
REPLAY = """mutation($id: ID!) { replayWebhookDelivery(id: $id) { __typename
  ... on WebhookDeliveryPayload { delivery { id status } } ... on Error { code message } } }"""


async def test_an_endpoint_that_keeps_failing_is_disabled_and_hr_is_told(
    gql: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    hook.down = 1000
    demo = gql.demo
    container = demo.container
    alice, hr = demo.principal("alice@acme.example"), demo.principal("hr@acme.example")
    endpoint_id = await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED, REJECTED])
    workers(WEBHOOK_MAX_ATTEMPTS="1", WEBHOOK_DISABLE_AFTER_FAILURES="2", REMINDER_DAYS_BEFORE="[]")
    document_id = await _document_of(container, "alice@acme.example")

    def statuses_are(expected: list[str]) -> Any:
        async def check() -> bool:
            return [d["status"] for d in await _deliveries(database_url)] == expected

        return check

    await review(container, alice, document_id, SUBMITTED)
    await _eventually(statuses_are(["FAILED"]), what="the first failure")
    (endpoint,) = (await gql.data(ENDPOINTS, as_user="hr@acme.example"))["webhookEndpoints"]
    assert endpoint["enabled"] is True  # one failure is not "keeps failing"
    (delivery,) = endpoint["deliveries"]
    assert delivery["lastStatusCode"] == 503 and delivery["lastResponseMs"] is not None

    await review(container, hr, document_id, REJECTED)
    await _eventually(statuses_are(["FAILED", "FAILED"]), what="the second failure")

    async def told() -> list[Any]:
        page = (await gql.data(BELL, as_user="hr@acme.example"))["notifications"]
        return [e["node"] for e in page["edges"] if e["node"]["kind"] == "WEBHOOK_DISABLED"]

    (notice,) = await _eventually(told, what="HR's notification")
    assert notice == {
        "kind": "WEBHOOK_DISABLED",
        "subjectType": "WebhookEndpoint",
        "subjectId": to_global_id("WebhookEndpoint", endpoint_id),
    }
    (endpoint,) = (await gql.data(ENDPOINTS, as_user="hr@acme.example"))["webhookEndpoints"]
    assert endpoint["enabled"] is False

    # disabled: the next event is not delivered, and a replay is refused
    await review(container, alice, document_id, SUBMITTED)
    await process.asyncio.sleep(1.5)
    assert len(await _deliveries(database_url)) == 2 and len(hook.requests) == 2
    refused = await gql.data(REPLAY, {"id": endpoint["deliveries"][0]["id"]}, as_user="hr@acme.example")
    assert refused["replayWebhookDelivery"]["__typename"] == "ValidationError"
    assert "disabled" in refused["replayWebhookDelivery"]["message"]


async def test_a_delivery_is_replayed_as_the_same_message(
    gql: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    demo = gql.demo
    container = demo.container
    alice = demo.principal("alice@acme.example")
    await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED])
    workers(REMINDER_DAYS_BEFORE="[]")
    await review(container, alice, await _document_of(container, "alice@acme.example"), SUBMITTED)
    await _eventually(lambda: len(hook.processed) == 1, what="the delivery")

    async def delivered() -> list[Any]:
        found = await _deliveries(database_url)
        return found if [d["status"] for d in found] == ["DELIVERED"] else []

    (delivery,) = await _eventually(delivered, what="the delivery recorded")
    key = str(delivery["id"])
    assert (await gql.data(REPLAY, {"id": key}, as_user="hr@globex.example"))["replayWebhookDelivery"]["code"] == (
        "NOT_FOUND"
    )
    assert (await gql.data(REPLAY, {"id": "x"}, as_user="hr@acme.example"))["replayWebhookDelivery"][
        "__typename"
    ] == "ValidationError"
    forbidden = await gql.data(REPLAY, {"id": key}, as_user="alice@acme.example")
    assert forbidden["replayWebhookDelivery"]["code"] == "FORBIDDEN"

    replayed = (await gql.data(REPLAY, {"id": key}, as_user="hr@acme.example"))["replayWebhookDelivery"]
    assert replayed == {"__typename": "WebhookDeliveryPayload", "delivery": {"id": key, "status": "PENDING"}}
    await _eventually(lambda: len(hook.requests) == 2, what="the replayed message")
    assert {h["webhook-id"] for h, _ in hook.requests} == {f"evt_{delivery['event_id']}"}

    async def twice() -> list[Any]:
        found = await _deliveries(database_url)
        return found if [(d["status"], d["attempts"]) for d in found] == [("DELIVERED", 2)] else []

    (after,) = await _eventually(twice, what="the replay recorded")
    assert after["last_response_ms"] is not None and after["last_status_code"] == 204


def test_the_sql_store_replays_with_the_queues_delivery_task() -> None:
    assert SqlWebhookStore.__init__.__defaults__ == (DELIVER,)

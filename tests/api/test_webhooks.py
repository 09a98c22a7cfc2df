"""Webhook endpoints through GraphQL: HR registers one (the secret shown once), lists the
company's endpoints and their delivery log; employees and other companies see none; bad input
is a typed error that stores nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domains.kernel.ids import from_global_id

REGISTER = """mutation($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) {
  __typename
  ... on RegisterWebhookEndpointPayload { secret endpoint { id url eventTypes enabled } }
  ... on ValidationError { code fields { path message } }
  ... on Error { code message } } }"""
LIST = """{ webhookEndpoints { id url eventTypes enabled
  deliveries(first: 5) { eventId eventType status attempts lastStatusCode lastError } } }"""
DISABLE = """mutation($id: ID!) { disableWebhookEndpoint(id: $id) {
  __typename ... on WebhookEndpointPayload { endpoint { enabled } } ... on Error { code message } } }"""
HR, ALICE, GLOBEX_HR = "hr@acme.example", "alice@acme.example", "hr@globex.example"
GOOD = {"url": "https://hooks.example.com/hr", "eventTypes": ["DocumentApproved", "WorkflowStatusChanged"]}


async def _stored(gql: Any) -> list[Any]:
    async with gql.demo.container.engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT url, secret, company_id FROM webhook_endpoints"))).all())


async def test_hr_registers_an_endpoint_and_sees_it_with_its_log(gql: Any) -> None:
    registered = (await gql.data(REGISTER, {"input": GOOD}, as_user=HR))["registerWebhookEndpoint"]
    assert registered["__typename"] == "RegisterWebhookEndpointPayload", registered
    assert registered["secret"].startswith("whsec_") and len(registered["secret"]) > 40
    assert registered["endpoint"]["eventTypes"] == GOOD["eventTypes"] and registered["endpoint"]["enabled"]
    ((url, secret, company),) = await _stored(gql)
    assert (url, secret, company) == (GOOD["url"], registered["secret"], gql.demo.principal(HR).company_id)

    endpoints = (await gql.data(LIST, as_user=HR))["webhookEndpoints"]
    assert [e["id"] for e in endpoints] == [registered["endpoint"]["id"]]
    assert endpoints[0]["deliveries"] == [] and "secret" not in endpoints[0]  # the secret is never read back
    assert (await gql.data(LIST, as_user=GLOBEX_HR))["webhookEndpoints"] == []  # another company's

    endpoint_id = from_global_id(registered["endpoint"]["id"])[1]
    async with gql.demo.container.engine.begin() as conn:  # as a worker records attempts
        await conn.execute(
            sa.text(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,"
                " last_status_code, last_error) VALUES (:e, 7, 'DocumentApproved', 'PENDING', 2, 503, 'HTTP 503'),"
                " (:e, 9, 'WorkflowStatusChanged', 'DELIVERED', 1, 204, NULL)"
            ),
            {"e": endpoint_id},
        )
    (listed,) = (await gql.data(LIST, as_user=HR))["webhookEndpoints"]
    assert listed["deliveries"] == [
        {"eventId": "9", "eventType": "WorkflowStatusChanged", "status": "DELIVERED", "attempts": 1,
         "lastStatusCode": 204, "lastError": None},
        {"eventId": "7", "eventType": "DocumentApproved", "status": "PENDING", "attempts": 2,
         "lastStatusCode": 503, "lastError": "HTTP 503"},
    ]  # fmt: skip

    other = (await gql.data(DISABLE, {"id": registered["endpoint"]["id"]}, as_user=GLOBEX_HR))["disableWebhookEndpoint"]
    assert other["code"] == "NOT_FOUND"
    disabled = (await gql.data(DISABLE, {"id": registered["endpoint"]["id"]}, as_user=HR))["disableWebhookEndpoint"]
    assert disabled == {"__typename": "WebhookEndpointPayload", "endpoint": {"enabled": False}}


async def test_employees_cannot_and_bad_input_stores_nothing(gql: Any) -> None:
    refused = (await gql.data(REGISTER, {"input": GOOD}, as_user=ALICE))["registerWebhookEndpoint"]
    assert refused["code"] == "FORBIDDEN"
    listed = await gql(LIST, as_user=ALICE)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = {"url": "ftp://user:pw@hooks.example.com", "eventTypes": ["DocumentEaten"]}
    invalid = (await gql.data(REGISTER, {"input": bad}, as_user=HR))["registerWebhookEndpoint"]
    assert invalid["__typename"] == "ValidationError"
    paths = {tuple(f["path"]) for f in invalid["fields"]}
    assert paths == {("url",), ("eventTypes",)}
    assert "DocumentEaten" in next(f["message"] for f in invalid["fields"] if f["path"] == ["eventTypes"])
    assert await _stored(gql) == []


async def test_the_readmes_operations_run_as_written(gql: Any) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Jobs: webhooks, mail, the clock", 1)[1].split("\n## ", 1)[0]
    (document,) = re.findall(r"^```graphql\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    response = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "RegisterWebhook"},
        headers={"Authorization": f"Bearer {gql.demo.token(HR)}"},
    )
    registered = response.json()["data"]["registerWebhookEndpoint"]
    assert registered["secret"].startswith("whsec_"), registered
    response = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "WebhookLog"},
        headers={"Authorization": f"Bearer {gql.demo.token(HR)}"},
    )
    assert response.json()["data"]["webhookEndpoints"][0]["url"] == "https://hooks.example.com/hr"
    response = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "FailedJobs"},
        headers={"Authorization": f"Bearer {gql.demo.token(HR)}"},
    )
    assert response.json()["data"] == {"jobs": []}, response.json()

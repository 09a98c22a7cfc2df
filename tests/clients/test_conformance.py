"""The npm clients frontends use, against the real app: graphql-ws (graphql-transport-ws),
subscriptions-transport-ws (the legacy graphql-ws protocol), urql with its subscription
exchange and Apollo Client with GraphQLWsLink, each pinned in tests/clients/package-lock.json
(`make test` runs `npm ci` there) and driven by conformance.mjs.

Each, with the token in ``connectionParams`` as the README shows, runs a query and two
mutations, watches a workflow live while those mutations move it (its start replayed, then
a step's move and the cancellation as they happen), and resumes with ``afterEventId``: only
the later events come. The clients open the WHATWG WebSocket browsers have (Node 20 with
``--experimental-websocket``), so a frame a browser would refuse fails here too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domains.kernel.ids import from_global_id, to_global_id
from tests.api.reviews import document_version, last_event_id, step_documents, uploaded

HERE = Path(__file__).resolve().parent
CLIENTS = ["graphql-ws", "subscriptions-transport-ws", "urql", "apollo"]
HR = "hr@acme.example"
START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  ... on WorkflowPayload { workflow { id } } ... on Error { code message } } }"""


def _node() -> list[str]:
    node = shutil.which("node")
    assert node, "the client conformance suite needs Node.js (20 or later) on PATH"
    assert (HERE / "node_modules" / "graphql-ws").is_dir(), (
        "the clients are missing: run `npm ci` in tests/clients (make test does)"
    )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    assert major >= 20, f"Node {version.strip()}: the clients need 20 or later"
    # Node 22 has the WHATWG WebSocket as a global; Node 20 behind this flag.
    return [node, *(["--experimental-websocket"] if major < 22 else []), "conformance.mjs"]


def _without_typenames(value: Any) -> Any:
    """Apollo and urql add ``__typename`` to every selection; the comparisons leave it out."""
    if isinstance(value, dict):
        return {k: _without_typenames(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [_without_typenames(v) for v in value]
    return value


def _move(event: dict[str, Any]) -> tuple[str, str | None, str | None, str | None]:
    """(kind, the step's title, from, to), from the typed fields."""
    if event["kind"] == "STEP_STATUS_CHANGED":
        return (event["kind"], event["step"]["title"], event["previousStepStatus"], event["step"]["status"])
    assert event["step"] is None and event["previousStepStatus"] is None
    return (event["kind"], None, event["previousWorkflowStatus"], event["workflowStatus"])


@pytest.mark.parametrize("client", CLIENTS)
async def test_the_client_queries_mutates_watches_live_and_resumes(live_server, gql, client) -> None:
    command = _node()
    container = gql.demo.container
    after = await last_event_id(container)
    subject = to_global_id("User", gql.demo.id("alice@acme.example"))
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    variables = {"input": {"template": "EMPLOYEE_ONBOARDING", "subjectUserId": subject, "dueDate": due}}
    started = await gql.data(START, variables, as_user=HR)
    workflow_id = started["startWorkflow"]["workflow"]["id"]
    document = (await step_documents(container, workflow_id))[0]
    await uploaded(container, document)  # the owner's file is in: the step's document may be submitted
    env = {
        **os.environ,
        "GRAPHQL_URL": f"{live_server.url}/graphql",
        "TOKEN": gql.demo.token(HR),
        "WORKFLOW_ID": workflow_id,
        "DOCUMENT_ID": to_global_id("Document", document),
        "DOCUMENT_VERSION": str(await document_version(container, document)),
        "AFTER_EVENT_ID": str(after),
    }
    done = await asyncio.to_thread(
        subprocess.run, [*command, client], cwd=HERE, capture_output=True, text=True, timeout=90, env=env
    )
    assert done.returncode == 0, done.stderr
    raw = json.loads(done.stdout.splitlines()[-1])
    assert raw["submit"]["submitDocumentForReview"]["__typename"] == "DocumentPayload", raw["submit"]
    assert raw["cancel"]["cancelWorkflow"]["__typename"] == "WorkflowPayload", raw["cancel"]
    got = _without_typenames(raw)

    assert got["query"]["me"] == {"email": HR}
    assert got["query"]["workflow"]["id"] == workflow_id and got["query"]["workflow"]["status"] == "IN_PROGRESS"
    assert got["submit"]["submitDocumentForReview"]["document"]["status"] == "IN_REVIEW"
    assert got["cancel"]["cancelWorkflow"]["workflow"]["status"] == "CANCELLED"

    live = got["live"]
    assert [_move(e) for e in live] == [
        ("WORKFLOW_STARTED", None, None, "IN_PROGRESS"),
        ("STEP_STATUS_CHANGED", "Identity document", "PENDING", "SUBMITTED"),
        ("WORKFLOW_STATUS_CHANGED", None, "IN_PROGRESS", "CANCELLED"),
    ]
    assert {e["workflow"]["id"] for e in live} == {workflow_id}
    ids = [int(e["eventId"]) for e in live]
    assert ids == sorted(set(ids)) and ids[0] > after
    # resumed after the step's event: the cancellation, and nothing else
    assert got["resumed"] == [live[2]]

    async with container.engine.connect() as conn:
        status = await conn.execute(
            sa.text("SELECT status FROM workflows WHERE id = :id"), {"id": from_global_id(workflow_id)[1]}
        )
        assert status.scalar_one() == "CANCELLED"

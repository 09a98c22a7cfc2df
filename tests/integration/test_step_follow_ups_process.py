"""Reminders and escalations of workflow steps through real worker processes as the clock moves
from outside: a task due in 3 days reminds its assignee (by mail, through a real SMTP server),
a task waiting on the HR group reminds HR; overdue, a task escalates to its subject's manager
as a WorkflowStepEscalated event, told by mail and in the app; the steps show ``remindedAt`` and
``escalatedAt`` over GraphQL; a completed step is reminded and escalated no more. Two workers
scan all along: each mail arrives once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
import sqlalchemy as sa

from domains.kernel.ids import from_global_id, to_global_id
from tests.integration import test_jobs_process as process
from tests.integration.test_clock import _clock
from tests.integration.test_escalations_process import _kinds_for, _reset_clock
from tests.integration.test_jobs_process import Inbox, _eventually

clean_queue, smtp, workers = process.clean_queue, process.smtp, process.workers
pytestmark = pytest.mark.timeout(180)

HR, ALICE, BOB, ADMIN = "hr@acme.example", "alice@acme.example", "bob@acme.example", "admin@acme.example"
CREATE_TEMPLATE = """mutation($input: CreateWorkflowTemplateInput!) { createWorkflowTemplate(input: $input) {
  __typename ... on WorkflowTemplatePayload { workflowTemplate { id } } ... on Error { code message } } }"""
CREATE_STEP = """mutation($input: CreateWorkflowTemplateStepInput!) { createWorkflowTemplateStep(input: $input) {
  __typename ... on Error { code message } } }"""
PUBLISH = """mutation($id: ID!, $v: Int!) { publishWorkflowTemplate(id: $id, expectedVersion: $v) {
  __typename ... on Error { code message } } }"""
START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename ... on WorkflowPayload { workflow { id } } ... on Error { code message } } }"""
STEPS = """query($id: ID!) { workflow(id: $id) {
  steps { edges { node { id version key status dueOn remindedAt escalatedAt } } } } }"""
COMPLETE = """mutation($id: ID!, $v: Int!) { completeTask(stepId: $id, note: "", expectedVersion: $v) {
  __typename ... on WorkflowStepPayload { workflowStep { status } } ... on Error { code message } } }"""


async def _escalations(container: Any) -> list[Any]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT payload FROM events WHERE type = 'WorkflowStepEscalated' ORDER BY id")
        )
        return [r[0] for r in rows]


async def _workflow(gql: Any) -> str:
    """A published template of two tasks (the laptop for Ada, due 3 days after the start; a
    badge for HR, due 5 days after), started for Alice."""
    demo = gql.demo
    created = await gql.data(CREATE_TEMPLATE, {"input": {"title": "Desk set-up", "kind": "ONBOARDING"}}, as_user=HR)
    template_id = created["createWorkflowTemplate"]["workflowTemplate"]["id"]
    for position, fields in enumerate(
        [
            {"key": "laptop", "title": "Prepare the laptop", "kind": "TASK",
             "assignee": f"USER:{to_global_id('User', demo.id(ADMIN))}", "dueFrom": "START", "dueOffsetDays": 3},
            {"key": "badge", "title": "Print the badge", "kind": "TASK", "assignee": "HR",
             "dueFrom": "START", "dueOffsetDays": 5},
        ]
    ):  # fmt: skip
        made = await gql.data(
            CREATE_STEP, {"input": {"templateId": template_id, "position": position, **fields}}, as_user=HR
        )
        assert made["createWorkflowTemplateStep"]["__typename"] == "WorkflowTemplateStepPayload", made
    published = await gql.data(PUBLISH, {"id": template_id, "v": 1}, as_user=HR)
    assert published["publishWorkflowTemplate"]["__typename"] == "WorkflowTemplatePayload", published
    start = {
        "templateId": template_id,
        "subjectUserId": to_global_id("User", demo.id(ALICE)),
        "dueDate": (datetime.now(UTC).date() + timedelta(30)).isoformat(),
    }
    started = (await gql.data(START, {"input": start}, as_user=HR))["startWorkflow"]
    assert started["__typename"] == "WorkflowPayload", started
    return str(started["workflow"]["id"])


async def _steps(gql: Any, workflow_id: str) -> dict[str, dict[str, Any]]:
    found = await gql.data(STEPS, {"id": workflow_id}, as_user=HR)
    return {e["node"]["key"]: e["node"] for e in found["workflow"]["steps"]["edges"]}


async def test_open_steps_are_reminded_then_escalated_to_the_manager_and_completed_ones_no_more(
    gql: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    demo = gql.demo
    container = demo.container
    inbox, _ = smtp
    today = datetime.now(UTC).date()
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE follow_ups, company_follow_up_settings"))
        await conn.execute(sa.text("UPDATE documents SET due_on = NULL"))  # the demo's documents stay quiet
        await conn.execute(sa.text("UPDATE workflow_steps SET due_on = NULL"))
        await conn.execute(
            sa.text("UPDATE users SET manager_id = :m WHERE email = :e"), {"m": demo.id(BOB), "e": ALICE}
        )
    workflow_id = await _workflow(gql)
    steps = await _steps(gql, workflow_id)
    assert steps["laptop"]["dueOn"] == (today + timedelta(3)).isoformat()
    assert (steps["laptop"]["remindedAt"], steps["laptop"]["escalatedAt"]) == (None, None)

    mails = lambda: [  # noqa: E731
        (m[0], BytesParser(policy=policy.default).parsebytes(m[1])) for m in inbox.mails
    ]
    try:
        for _ in range(2):
            workers(REMINDER_SCAN_SECONDS="0.3")  # the defaults: 3 days before and on the day, escalated 3 days late
        await _eventually(lambda: len(inbox.mails) >= 1, what="the laptop's reminder 3 days before")
        await asyncio.sleep(1.5)  # several scans by both workers later: still one
        ((to, first),) = mails()
        assert to == [ADMIN] and first["Subject"] == "A task is due in 3 days"
        body = first.get_body(("plain",)).get_content()
        assert f"/workflows/{from_global_id(workflow_id)[1]}" in body and "laptop" not in body

        _clock(database_url, "advance", "2d")  # the badge is 3 days off: HR (the group) is reminded
        await _eventually(lambda: len(inbox.mails) >= 2, what="the badge's reminder to HR")
        assert mails()[1][0] == [HR] and mails()[1][1]["Subject"] == "A task is due in 3 days"
        badge = (await _steps(gql, workflow_id))["badge"]
        assert badge["remindedAt"] is not None and badge["escalatedAt"] is None
        done = await gql.data(COMPLETE, {"id": badge["id"], "v": badge["version"]}, as_user=HR)
        assert done["completeTask"]["workflowStep"]["status"] == "DONE", done

        _clock(database_url, "advance", "1d")  # the laptop's day
        await _eventually(lambda: len(inbox.mails) >= 3, what="the laptop's reminder on the day")
        assert mails()[2][0] == [ADMIN] and mails()[2][1]["Subject"] == "A task is due today"

        _clock(database_url, "advance", "2d")  # the badge's day: done, so no reminder
        await asyncio.sleep(1.5)
        assert len(inbox.mails) == 3 and await _escalations(container) == []

        _clock(database_url, "advance", "1d")  # the laptop 3 days overdue: Alice's manager
        await _eventually(lambda: len(inbox.mails) >= 4, what="the escalation to the manager")
        await asyncio.sleep(1.5)
        (escalated,) = await _escalations(container)
        laptop = (await _steps(gql, workflow_id))["laptop"]
        assert escalated["stage"] == "MANAGER" and escalated["recipientIds"] == [str(demo.id(BOB))]
        assert escalated["stepId"] == str(from_global_id(laptop["id"])[1]) and "laptop" not in str(escalated)
        assert mails()[3][0] == [BOB] and mails()[3][1]["Subject"] == "An overdue workflow step was escalated to you"
        assert len(inbox.mails) == 4

        async def told() -> list[str]:
            return await _kinds_for(container, BOB)

        await _eventually(told, what="the manager's notification")
        assert await _kinds_for(container, BOB) == ["STEP_ESCALATED"]
        assert laptop["remindedAt"] is not None and laptop["escalatedAt"] is not None

        # completed: escalates no more, however late (HR would be next)
        done = await gql.data(COMPLETE, {"id": laptop["id"], "v": laptop["version"]}, as_user=ADMIN)
        assert done["completeTask"]["workflowStep"]["status"] == "DONE", done
        _clock(database_url, "advance", "10d")
        await asyncio.sleep(1.5)
        assert len(await _escalations(container)) == 1 and len(inbox.mails) == 4
    finally:
        await _reset_clock(database_url)

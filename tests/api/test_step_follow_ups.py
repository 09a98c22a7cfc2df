"""A workflow step's follow-up over GraphQL and its reminder's recipients (issue 18):
``WorkflowStep.remindedAt`` / ``escalatedAt`` come from one batched look-up for the whole page
(one statement more than without them) and only for the step's current due date; a step's
reminder goes to its assignee unless they muted ``STEP_DUE`` (or mail), and to nobody once the
step is done."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from psycopg_pool import AsyncConnectionPool

from adapters.jobs import reminders
from adapters.jobs.mail import FolderMailer
from domains.kernel.ids import from_global_id
from tests.integration.test_step_follow_ups_process import ADMIN, HR, _workflow

STEPS = """query($id: ID!) { workflow(id: $id) { steps { edges { node { key dueOn %s } } } } }"""
PREFER = """mutation($kinds: [NotificationKind!]) { updateNotificationPreferences(input: { mutedKinds: $kinds }) {
  __typename } }"""


async def _step_ids(container: Any, workflow_id: str) -> dict[str, tuple[uuid.UUID, date]]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT key, id, due_on FROM workflow_steps WHERE workflow_id = :w"),
            {"w": from_global_id(workflow_id)[1]},
        )
        return {r[0]: (r[1], r[2]) for r in rows}


async def test_a_step_shows_its_follow_up_for_its_current_due_date_in_one_more_statement(
    gql: Any, resolver_gql: Any
) -> None:
    container = gql.demo.container
    workflow_id = await _workflow(gql)
    steps = await _step_ids(container, workflow_id)
    laptop_id, due = steps["laptop"]
    reminded = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with container.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO follow_ups (target_type, target_id, company_id, due_on, reminded_at, escalated_at,"
                " escalation_stage) SELECT 'WORKFLOW_STEP', id, company_id, due_on, :r, NULL, 0"
                " FROM workflow_steps WHERE id = :id"
            ),
            {"r": reminded, "id": laptop_id},
        )
        # a document's follow-up of the same id says nothing of a step
        await conn.execute(
            sa.text(
                "INSERT INTO follow_ups (target_type, target_id, company_id, due_on, reminded_at, escalation_stage)"
                " SELECT 'DOCUMENT', id, company_id, due_on, :r, 0 FROM workflow_steps WHERE key = 'badge'"
                " AND workflow_id = :w"
            ),
            {"r": reminded, "w": from_global_id(workflow_id)[1]},
        )
    plain = await resolver_gql(STEPS % "", {"id": workflow_id}, as_user=HR)
    followed = await resolver_gql(STEPS % "remindedAt escalatedAt", {"id": workflow_id}, as_user=HR)
    assert not plain.get("errors") and not followed.get("errors"), followed
    by_key = {e["node"]["key"]: e["node"] for e in followed["data"]["workflow"]["steps"]["edges"]}
    assert by_key["laptop"]["dueOn"] == due.isoformat()
    assert datetime.fromisoformat(by_key["laptop"]["remindedAt"]) == reminded
    assert by_key["laptop"]["escalatedAt"] is None
    assert (by_key["badge"]["remindedAt"], by_key["badge"]["escalatedAt"]) == (None, None)
    # the token's user, the workflow, its steps; and every step's follow-up in one look-up more
    assert plain["extensions"]["sql"]["statements"] == 3
    assert followed["extensions"]["sql"]["statements"] == 4

    # a moved due date: the follow-up was for the earlier one
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE workflow_steps SET due_on = due_on + 2 WHERE id = :id"), {"id": laptop_id})
    moved = await gql.data(STEPS % "remindedAt", {"id": workflow_id}, as_user=HR)
    assert {e["node"]["key"]: e["node"]["remindedAt"] for e in moved["workflow"]["steps"]["edges"]} == {
        "laptop": None,
        "badge": None,
    }


async def test_a_step_reminder_honours_the_assignees_preferences_and_stops_once_done(
    gql: Any, database_url: str, tmp_path: Path
) -> None:
    container = gql.demo.container
    workflow_id = await _workflow(gql)
    steps = await _step_ids(container, workflow_id)
    today = datetime.now(UTC).date()
    mailer = FolderMailer(tmp_path)
    pool = AsyncConnectionPool(database_url, min_size=1, max_size=1, open=False)
    await pool.open()
    try:

        async def send(key: str) -> int:
            step_id, due = steps[key]
            return await reminders.send_step(
                pool, mailer, str(step_id), due, today, sender="hr-graph@example.com", app_url="http://app.example"
            )

        assert await send("laptop") == 1 and await send("badge") == 1  # Ada; the HR group's one person
        written = sorted(p.read_text() for p in tmp_path.rglob("*.eml"))
        assert len(written) == 2 and all("http://app.example/workflows/" in m for m in written)
        assert not any("laptop" in m or "badge" in m for m in written)  # links, never the steps' titles

        muted = await gql.data(PREFER, {"kinds": ["STEP_DUE"]}, as_user=ADMIN)
        assert muted["updateNotificationPreferences"]["__typename"] == "NotificationPreferencesPayload"
        assert await send("laptop") == 0
        async with container.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE workflow_steps SET status = 'DONE' WHERE id = :id"), {"id": steps["badge"][0]}
            )
        assert await send("badge") == 0  # done since the claim: no mail
        # a due date moved since the claim: that reminder is moot
        assert (
            await reminders.send_step(
                pool, mailer, str(steps["laptop"][0]), today + timedelta(99), today, sender="x@example.com", app_url="/"
            )
            == 0
        )
        assert len(list(tmp_path.rglob("*.eml"))) == 2
    finally:
        await pool.close()

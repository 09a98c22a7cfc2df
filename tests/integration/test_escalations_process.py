"""Escalations through real worker processes as the clock moves from outside: an overdue
document escalates to its owner's manager, later to HR, once each with two workers scanning;
recorded as DocumentEscalated events, told by mail and in the app, and visible as the
document's ``escalatedAt`` (and ``remindedAt``); a moved due date starts afresh, a document
handed in escalates no more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
import sqlalchemy as sa

from domains.kernel.ids import to_global_id
from tests.integration import test_jobs_process as process
from tests.integration.test_clock import _clock
from tests.integration.test_jobs_process import Inbox, _document_of, _eventually

clean_queue, smtp, workers = process.clean_queue, process.smtp, process.workers
pytestmark = pytest.mark.timeout(150)

DOCUMENT = "query($id: ID!) { document(id: $id) { dueOn remindedAt escalatedAt } }"
SETTINGS = """mutation($days: [Int!], $after: Int) {
  updateFollowUpSettings(input: { reminderDays: $days, escalateAfterDays: $after }) { __typename
  ... on FollowUpSettingsPayload { settings { reminderDays escalateAfterDays own } }
  ... on Error { code message } } }"""


async def _escalations(container: Any) -> list[Any]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT payload FROM events WHERE type = 'DocumentEscalated' ORDER BY id"))
        return [r[0] for r in rows]


async def _kinds_for(container: Any, email: str) -> list[str]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT n.kind FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.email = :e ORDER BY n.id"
            ),
            {"e": email},
        )
        return [r[0] for r in rows]


async def test_an_overdue_document_escalates_to_the_manager_then_hr_as_the_clock_moves(
    gql: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    demo = gql.demo
    container = demo.container
    inbox, _ = smtp
    today = datetime.now(UTC).date()
    due = await _document_of(container, "alice@acme.example")
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE follow_ups"))
        await conn.execute(sa.text("UPDATE documents SET due_on = NULL"))
        await conn.execute(
            sa.text("UPDATE documents SET due_on = :d WHERE id = :id"), {"d": today + timedelta(1), "id": due}
        )
        await conn.execute(
            sa.text("UPDATE users SET manager_id = :m WHERE email = 'alice@acme.example'"),
            {"m": demo.id("bob@acme.example")},
        )
    # the company's own settings: reminded on the day only, escalated after 2 days overdue
    saved = await gql.data(SETTINGS, {"days": [0], "after": 2}, as_user="hr@acme.example")
    assert saved["updateFollowUpSettings"]["settings"] == {"reminderDays": [0], "escalateAfterDays": 2, "own": True}
    refused = await gql.data(SETTINGS, {"after": 0}, as_user="hr@acme.example")
    assert refused["updateFollowUpSettings"]["__typename"] == "ValidationError"
    forbidden = await gql.data(SETTINGS, {"after": 5}, as_user="alice@acme.example")
    assert forbidden["updateFollowUpSettings"]["code"] == "FORBIDDEN"

    document_id = to_global_id("Document", due)
    subjects = lambda: [BytesParser(policy=policy.default).parsebytes(m[1])["Subject"] for m in inbox.mails]  # noqa: E731
    try:
        for _ in range(2):
            workers(REMINDER_SCAN_SECONDS="0.3")
        await asyncio.sleep(1.5)
        assert await _escalations(container) == [] and inbox.mails == []  # due tomorrow: nothing yet
        state = (await gql.data(DOCUMENT, {"id": document_id}, as_user="alice@acme.example"))["document"]
        assert (state["remindedAt"], state["escalatedAt"]) == (None, None)

        _clock(database_url, "advance", "1d")  # the day: reminded (the company's days), not escalated
        await _eventually(lambda: len(inbox.mails) >= 1, what="the reminder on the day")
        _clock(database_url, "advance", "2d")  # two days overdue: the manager
        await _eventually(lambda: len(inbox.mails) >= 2, what="the escalation to the manager")
        await asyncio.sleep(1.5)  # several scans by both workers later: still one
        (first,) = await _escalations(container)
        assert first["stage"] == "MANAGER" and first["recipientIds"] == [str(demo.id("bob@acme.example"))]
        assert first["documentId"] == str(due) and "Passport" not in str(first) and "Employment" not in str(first)
        assert inbox.mails[1][0] == ["bob@acme.example"]
        assert subjects() == ["A document is due today", "An overdue document was escalated to you"]

        async def told() -> list[str]:
            return await _kinds_for(container, "bob@acme.example")

        await _eventually(told, what="the manager's notification")
        assert await _kinds_for(container, "bob@acme.example") == ["OVERDUE_ESCALATED"]
        state = (await gql.data(DOCUMENT, {"id": document_id}, as_user="hr@acme.example"))["document"]
        assert state["remindedAt"] is not None and state["escalatedAt"] is not None

        _clock(database_url, "advance", "2d")  # four days overdue: HR
        await _eventually(lambda: len(inbox.mails) >= 3, what="the escalation to HR")
        await asyncio.sleep(1.0)
        stages = [e["stage"] for e in await _escalations(container)]
        assert stages == ["MANAGER", "HR"] and inbox.mails[2][0] == ["hr@acme.example"]

        # a moved due date starts afresh: nothing shown, nothing sent until it is overdue again
        async with container.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE documents SET due_on = :d WHERE id = :id"), {"d": today + timedelta(30), "id": due}
            )
        state = (await gql.data(DOCUMENT, {"id": document_id}, as_user="hr@acme.example"))["document"]
        assert (state["remindedAt"], state["escalatedAt"]) == (None, None)
        await asyncio.sleep(1.0)
        assert len(await _escalations(container)) == 2 and len(inbox.mails) == 3

        # handed in: escalates no more, however late
        async with container.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE documents SET status = 'SUBMITTED' WHERE id = :id"), {"id": due})
        _clock(database_url, "advance", "40d")
        await asyncio.sleep(1.5)
        assert len(await _escalations(container)) == 2
    finally:
        await _reset_clock(database_url)


async def _reset_clock(database_url: str) -> None:
    """Back to the system's time, whatever it takes: a clock left moved expires every later token."""
    for _ in range(20):
        try:
            _clock(database_url, "reset")
            return
        except AssertionError:  # the database refused a client for a moment
            await asyncio.sleep(1)
    _clock(database_url, "reset")

"""Mails about events: who receives one, and its text and HTML. No document content, no
rejection reason: what happened, and a link into the app.

Recipients are named by what they are to the event (the company's HR, the document's owner);
the adapter that sends looks up their addresses.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class Audience(enum.Enum):
    COMPANY_HR = "COMPANY_HR"
    DOCUMENT_OWNER = "DOCUMENT_OWNER"
    NAMED = "NAMED"
    """The people the event names (its payload's ``recipientIds``: an escalation's)."""


@dataclass(frozen=True)
class MailRule:
    kind: str
    audience: Audience
    subject: str
    text: str
    link: str = "documents/{documentId}"
    """Where in the app it points (formatted with the event's payload): a link, never content."""


RULES: Mapping[str, MailRule] = {
    "DocumentSubmitted": MailRule(
        "REVIEW_WAITING",
        Audience.COMPANY_HR,
        "A document waits for your review",
        "A {kind} document waits for your review.",
    ),
    "DocumentRejected": MailRule(
        "DOCUMENT_REJECTED",
        Audience.DOCUMENT_OWNER,
        "Your document was rejected",
        "Your {kind} document was rejected. Open it to see why and hand in a new file.",
    ),
    "DocumentEscalated": MailRule(
        "OVERDUE_ESCALATED",
        Audience.NAMED,
        "An overdue document was escalated to you",
        "A {kind} document is overdue and was escalated to you: its owner has yet to hand it in.",
    ),
    "WorkflowStepEscalated": MailRule(
        "STEP_ESCALATED",
        Audience.NAMED,
        "An overdue workflow step was escalated to you",
        "A {kind} step of a workflow is overdue and was escalated to you: it still waits on someone.",
        "workflows/{workflowId}",
    ),
}
EVENT_TYPES = tuple(RULES)
DEFAULT_REMINDER_DAYS = (3, 0)
"""Reminders before a document's due date: 3 days before and on the day."""
REMINDED_STATUSES = ("REQUESTED", "UPLOADED", "REJECTED")
"""A document in these is its owner's to hand in (or submit); once in review or approved, no reminder."""
DEFAULT_EXPIRY_REMINDER_DAYS = (30, 7)
"""Reminders before a document's expiry date, to its owner and the company's HR."""
EXPIRING_STATUSES = ("UPLOADED", "IN_REVIEW", "APPROVED", "REJECTED")
"""A document in these expires on its date (``domains/document/model.py``, ``EXPIRES_FROM``)."""


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def compose(rule: MailRule, payload: Mapping[str, Any], app_url: str) -> Mail:
    kind = str(payload.get("kind") or "").replace("_", " ").lower() or "new"
    line = rule.text.format(kind=kind)
    ids = {k: str(v) for k, v in payload.items() if k.endswith("Id") and isinstance(v, str | int)}
    link = f"{app_url.rstrip('/')}/{rule.link.format_map(_Blank(ids))}"
    what = rule.link.split("/")[0].rstrip("s")
    text = f"{line}\n\n{link}\n\n-- HR Graph\n"
    body = (
        f"<!doctype html><html><body><p>{html.escape(line)}</p>"
        f'<p><a href="{html.escape(link, quote=True)}">Open the {what}</a></p>'
        "<p>&mdash; HR Graph</p></body></html>\n"
    )
    return Mail(subject=rule.subject, text=text, html=body)


def reminder(kind: str, document_id: str, due_on: date, today: date, app_url: str) -> Mail:
    """To a document's owner: it is due in some days, or today."""
    days = (due_on - today).days
    when = "today" if days <= 0 else ("tomorrow" if days == 1 else f"in {days} days, on {due_on.isoformat()}")
    rule = MailRule("DOCUMENT_DUE", Audience.DOCUMENT_OWNER, f"A document is due {when.split(',')[0]}", "")
    text = f"Your {kind.replace('_', ' ').lower()} document is due {when}."
    return compose(MailRule(rule.kind, rule.audience, rule.subject, text), {"documentId": document_id}, app_url)


def expiry_reminder(kind: str, document_id: str, expires_on: date, today: date, app_url: str) -> Mail:
    """To a document's owner and HR: it expires in some days (a renewal will be requested)."""
    days = (expires_on - today).days
    when = "today" if days <= 0 else ("tomorrow" if days == 1 else f"in {days} days, on {expires_on.isoformat()}")
    text = (
        f"Your {kind.replace('_', ' ').lower()} document expires {when}. "
        "A new one will be requested from its owner on that day."
    )
    rule = MailRule("DOCUMENT_EXPIRING", Audience.DOCUMENT_OWNER, f"A document expires {when.split(',')[0]}", text)
    return compose(rule, {"documentId": document_id}, app_url)


def step_reminder(kind: str, workflow_id: str, due_on: date, today: date, app_url: str) -> Mail:
    """To whoever a workflow's task or approval waits on: it is due in some days, or today."""
    days = (due_on - today).days
    when = "today" if days <= 0 else ("tomorrow" if days == 1 else f"in {days} days, on {due_on.isoformat()}")
    what = "an approval" if kind == "APPROVAL" else "a task"
    text = f"A workflow waits on you for {what}, due {when}."
    rule = MailRule("STEP_DUE", Audience.NAMED, f"{what.capitalize()} is due {when.split(',')[0]}", text)
    return compose(
        MailRule(rule.kind, rule.audience, rule.subject, text, "workflows/{workflowId}"),
        {"workflowId": workflow_id},
        app_url,
    )

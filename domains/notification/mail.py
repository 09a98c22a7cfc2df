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
from typing import Any


class Audience(enum.Enum):
    COMPANY_HR = "COMPANY_HR"
    DOCUMENT_OWNER = "DOCUMENT_OWNER"


@dataclass(frozen=True)
class MailRule:
    kind: str
    audience: Audience
    subject: str
    text: str


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
}
EVENT_TYPES = tuple(RULES)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def compose(rule: MailRule, payload: Mapping[str, Any], app_url: str) -> Mail:
    kind = str(payload.get("kind") or "").replace("_", " ").lower() or "new"
    line = rule.text.format(kind=kind)
    link = f"{app_url.rstrip('/')}/documents/{payload.get('documentId', '')}"
    text = f"{line}\n\n{link}\n\n-- HR Graph\n"
    body = (
        f"<!doctype html><html><body><p>{html.escape(line)}</p>"
        f'<p><a href="{html.escape(link, quote=True)}">Open the document</a></p>'
        "<p>&mdash; HR Graph</p></body></html>\n"
    )
    return Mail(subject=rule.subject, text=text, html=body)

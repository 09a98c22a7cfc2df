"""Mail about events: over SMTP (aiosmtplib) with ``SMTP_URL``, else ``.eml`` files in a folder.

Only to people who want it: a kind they muted, or mail turned off in their preferences, sends
nothing (``adapters/jobs/notifications.recipients``).

Idempotent by event and recipient: a sent mail leaves a receipt (``consumer_receipts``), and
a job run again for the same event skips every recipient with one. Its ``Message-ID`` is
derived from both, so a mail sent again after a worker died between sending and the receipt
is the same message to the mail system.
"""

from __future__ import annotations

import hashlib
import json
import os
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from psycopg_pool import AsyncConnectionPool

from adapters.jobs.notifications import recipients
from domains.notification.mail import RULES, Mail, compose

CONSUMER = "mail"


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """``smtp://user:pass@host:port`` (STARTTLS when offered), or ``smtps://`` (TLS from the start)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            timeout=30,
        )


class FolderMailer:
    """Writes each mail as ``<file>.eml`` under ``folder`` (development: what would be sent)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:16]
        target = self.folder / f"{message['X-HR-Graph-Event']}-{name}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(bytes(message))
        os.replace(partial, target)  # whole or absent


def message(mail: Mail, *, sender: str, to: str, event_id: int) -> EmailMessage:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = to
    built["Subject"] = mail.subject
    built["Date"] = formatdate(localtime=False)
    built["Message-ID"] = f"<{event_id}.{hashlib.sha256(to.lower().encode()).hexdigest()[:16]}@hr-graph>"
    built["X-HR-Graph-Event"] = str(event_id)
    built.set_content(mail.text)
    built.add_alternative(mail.html, subtype="html")
    return built


async def on_event(pool: AsyncConnectionPool, mailer: Mailer, event_id: int, *, sender: str, app_url: str) -> int:
    """Mails the event's recipients who have none yet; how many were sent."""
    async with pool.connection() as conn:
        event = await (
            await conn.execute("SELECT type, company_id, payload FROM events WHERE id = %s", (event_id,))
        ).fetchone()
        if event is None or event[0] not in RULES:
            return 0
        rule = RULES[event[0]]
        payload = json.loads(event[2]) if isinstance(event[2], str) else dict(event[2])
        found = await recipients(conn, rule.audience.value, event[1], payload, rule.kind, by_mail=True)
        addresses = [email for _, email in found]
        done = {
            row[0]
            for row in await (
                await conn.execute(
                    "SELECT key FROM consumer_receipts WHERE consumer = %s AND event_id = %s", (CONSUMER, event_id)
                )
            ).fetchall()
        }
    mail = compose(rule, payload, app_url)
    sent = 0
    for to in addresses:
        if to in done:
            continue
        await mailer.send(message(mail, sender=sender, to=to, event_id=event_id))
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO consumer_receipts (consumer, event_id, key) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (CONSUMER, event_id, to),
            )
        sent += 1
    return sent

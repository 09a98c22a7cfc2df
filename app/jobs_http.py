"""What the job queue adds to the served app: the movable clock followed while serving, and,
outside production, ``/dev/mail``: the mails written as ``.eml`` files (``SMTP_URL`` unset),
newest first, each readable at ``/dev/mail/<name>``."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.jobs.clock import StoredClock

if TYPE_CHECKING:
    from email.message import EmailMessage

    from app.wiring import Container

_NAME = re.compile(r"^[0-9]+-[0-9a-f]{16}\.eml$")
_PAGE = 200


@asynccontextmanager
async def job_parts(container: Container) -> AsyncIterator[None]:
    """While serving: the stored clock's offset is read again every second."""
    follower = asyncio.create_task(container.clock.follow()) if isinstance(container.clock, StoredClock) else None
    try:
        yield
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower


def dev_mail_routes(container: Container) -> list[BaseRoute]:
    if container.settings.production:
        return []
    folder = container.settings.data_dir / "mail"

    async def listing(_: Request) -> Response:
        rows = []
        for path in _newest(folder)[:_PAGE]:
            mail = _read(path)
            rows.append(
                f"<tr><td>{html.escape(str(mail['Date']))}</td><td>{html.escape(str(mail['To']))}</td>"
                f'<td><a href="/dev/mail/{path.name}">{html.escape(str(mail["Subject"]))}</a></td></tr>'
            )
        empty = "" if rows else "<p>No mail yet: submit a document for review, or reject one.</p>"
        return HTMLResponse(
            "<!doctype html><html><head><title>Mails (development)</title></head><body>"
            f"<h1>Mails that would have been sent</h1><p>From {html.escape(str(folder))} (SMTP_URL unset).</p>"
            f"{empty}<table><tr><th>date</th><th>to</th><th>subject</th></tr>{''.join(rows)}</table></body></html>"
        )

    async def one(request: Request) -> Response:
        name = str(request.path_params["name"])
        path = folder / name
        if not _NAME.match(name) or not path.is_file():
            return PlainTextResponse("no such mail", status_code=404)
        mail = _read(path)
        text = mail.get_body(preferencelist=("plain",))
        body = text.get_content() if text is not None else ""
        head = "".join(f"{key}: {mail[key]}\n" for key in ("Date", "From", "To", "Subject", "Message-ID"))
        return PlainTextResponse(f"{head}\n{body}")

    return [Route("/dev/mail", listing), Route("/dev/mail/{name}", one)]


def _newest(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)


def _read(path: Path) -> EmailMessage:
    # Imported here: the email package costs a served process about 40 ms of its cold start,
    # and only /dev/mail (never in production) reads a mail.
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    with path.open("rb") as file:
        parsed = BytesParser(policy=policy.default).parse(file)
    assert isinstance(parsed, EmailMessage)
    return parsed

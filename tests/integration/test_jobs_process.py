"""The job queue with real worker processes (``python -m app worker``), a real webhook
receiver on loopback (signatures checked with ``svix``) and a real SMTP server (aiosmtpd).

A worker is SIGKILLed while a delivery waits on the receiver; another worker finds the job of
the silent worker, retries it, and the receiver ends up with the message once (by its
``webhook-id``, as Standard Webhooks receivers drop repeats), the delivery log with one
success. Jobs run again for the same event send nothing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiosmtpd.controller import Controller
from svix.webhooks import Webhook

from adapters.sql.outbox import EVENTS
from app.database import driver_dsn
from domains.webhook.model import new_secret
from tests.api.reviews import REJECTED, SUBMITTED, review
from tests.integration.test_clock import _clock

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


@dataclass
class Receiver:
    """Answers 204 to signed messages; stalls on the first ``stall`` requests (never answers),
    then answers 503 to the next ``down`` ones."""

    secret: str
    stall: int = 0
    down: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    processed: dict[str, Any] = field(default_factory=dict)  # by webhook-id: a repeat is dropped
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = dict(request.headers)
        self.requests.append((headers, body))
        if len(self.requests) <= self.stall:
            await self.release.wait()
        if len(self.requests) <= self.stall + self.down:
            return web.Response(status=503)
        Webhook(self.secret).verify(body, headers)  # raises on a bad signature or an old timestamp
        self.processed.setdefault(headers["webhook-id"], json.loads(body))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    found = Receiver(secret=new_secret())
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield found, f"http://127.0.0.1:{port}/hook"
    found.release.set()
    await runner.cleanup()


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


# aiosmtpd's thread logs each connection at INFO, also after pytest has closed its capture
# ("--- Logging error --- ... I/O operation on closed file" in CI's log): warnings only.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def clean_queue(container: Any, demo: Any) -> None:
    """No jobs, deliveries or endpoints left by another test; the relay starts at the newest event."""
    async with container.engine.begin() as conn:
        await conn.execute(
            sa.text("TRUNCATE procrastinate_jobs, procrastinate_workers, webhook_deliveries, webhook_endpoints CASCADE")
        )
        await conn.execute(sa.text("TRUNCATE consumer_receipts"))
        await conn.execute(
            sa.text("UPDATE relay_cursors SET last_event_id = (SELECT coalesce(max(id), 0) FROM events)")
        )


@pytest.fixture
def workers(
    database_url: str, smtp: tuple[Inbox, int], tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "WORKER_STALLED_SECONDS": "1.5",
        "RELAY_POLL_SECONDS": "0.2",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        "WEBHOOK_TIMEOUT_SECONDS": "60",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}",
        "DATABASE_POOL_SIZE": "2",
    }

    def start(**overrides: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")  # a file: a full pipe would stall it
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--name", f"w{len(started)}"],
            cwd=ROOT,
            env={**env, **overrides},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check() if asyncio.iscoroutinefunction(check) else check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.1)


async def _endpoint(container: Any, company_id: uuid.UUID, url: str, secret: str, types: list[str]) -> uuid.UUID:
    endpoint_id = uuid.uuid4()
    async with container.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO webhook_endpoints (id, company_id, url, event_types, secret)"
                " VALUES (:id, :company, :url, :types, :secret)"
            ),
            {"id": endpoint_id, "company": company_id, "url": url, "types": types, "secret": secret},
        )
    return endpoint_id


async def _document_of(container: Any, email: str) -> uuid.UUID:
    async with container.engine.connect() as conn:
        found = await conn.execute(
            sa.text(
                "SELECT d.id FROM documents d JOIN users u ON u.id = d.owner_id"
                " WHERE u.email = :e AND d.status = 'REQUESTED' ORDER BY d.title LIMIT 1"
            ),
            {"e": email},
        )
        return uuid.UUID(str(found.scalar_one()))


async def _deliveries(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(driver_dsn(database_url))
    try:
        return list(await conn.fetch("SELECT * FROM webhook_deliveries ORDER BY id"))
    finally:
        await conn.close()


async def test_a_worker_killed_mid_delivery_and_retried_delivers_once(
    container: Any, demo: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    hook.stall = 1
    alice = demo.principal("alice@acme.example")
    await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED, "DocumentApproved"])
    first = workers()
    document_id = await _document_of(container, "alice@acme.example")
    await review(container, alice, document_id, SUBMITTED)

    await _eventually(lambda: len(hook.requests) >= 1, what="the first (stalled) request")
    first.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
    first.wait(timeout=10)
    assert (await _deliveries(database_url))[0]["status"] == "PENDING"

    workers()  # finds the dead worker's job by its heartbeat, and retries it
    await _eventually(lambda: hook.processed, what="a processed message")

    async def delivered() -> bool:
        return [d["status"] for d in await _deliveries(database_url)] == ["DELIVERED"]

    await _eventually(delivered, what="the delivery recorded")
    (delivery,) = await _deliveries(database_url)
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 204  # the killed attempt left no record
    ids = {headers["webhook-id"] for headers, _ in hook.requests}
    assert ids == {f"evt_{delivery['event_id']}"}  # the retry is the same message: the receiver drops a repeat
    (message,) = hook.processed.values()
    assert message["type"] == SUBMITTED and message["data"]["documentId"] == str(document_id)
    body = hook.requests[-1][1].decode()
    assert "alice@acme.example" not in body and "Passport" not in body and "Employment" not in body

    # Jobs run again for the same event (a retried fan-out, a retried delivery) send nothing more.
    conn = await asyncpg.connect(driver_dsn(database_url))
    try:
        for task, args in (
            ("hrgraph.webhooks.fan_out", {"event_id": delivery["event_id"]}),
            ("hrgraph.webhooks.deliver", {"delivery_id": delivery["id"]}),
        ):
            await conn.execute(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', $1, 0, NULL, NULL, $2::jsonb, NULL)"
                "::procrastinate_job_to_defer_v1])",
                task,
                json.dumps(args),
            )

        async def all_done() -> bool:
            left = await conn.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            return int(left) == 0

        await _eventually(all_done, what="the repeated jobs to finish")
    finally:
        await conn.close()
    assert len(hook.requests) == 2 and len(await _deliveries(database_url)) == 1

    # The next event reaches the endpoint too, after the first (the endpoint's jobs run in order).
    hr = demo.principal("hr@acme.example")
    await review(container, hr, document_id, "DocumentApproved")
    await _eventually(lambda: len(hook.processed) == 2, what="the approval")
    assert [m["type"] for m in hook.processed.values()] == [SUBMITTED, "DocumentApproved"]


async def test_review_mails_reach_the_smtp_server_once(
    container: Any, demo: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    inbox, _ = smtp
    alice = demo.principal("alice@acme.example")
    hr = demo.principal("hr@acme.example")
    document_id = await _document_of(container, "alice@acme.example")
    workers(REMINDER_DAYS_BEFORE="[]")  # the demo's documents are due soon: no reminders here
    await review(container, alice, document_id, SUBMITTED)
    await _eventually(lambda: len(inbox.mails) == 1, what="the review mail")
    await review(container, hr, document_id, REJECTED)
    await _eventually(lambda: len(inbox.mails) == 2, what="the rejection mail")
    (to_hr, to_owner) = inbox.mails
    assert to_hr[0] == ["hr@acme.example"] and b"waits for your review" in to_hr[1]
    assert to_owner[0] == ["alice@acme.example"] and b"Your document was rejected" in to_owner[1]
    assert b"not readable" not in to_owner[1]  # no rejection reason (nor any content) in a mail
    assert b"text/html" in to_owner[1] and str(document_id).encode() in to_owner[1]

    async with container.engine.connect() as conn:
        rejected_id = (
            await conn.execute(sa.select(sa.func.max(EVENTS.c.id)).where(EVENTS.c.type == REJECTED))
        ).scalar_one()
    conn2 = await asyncpg.connect(driver_dsn(database_url))
    try:  # the mail job run again for the rejection: nothing more is sent
        await conn2.execute(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'hrgraph.mail.on_event', 0, NULL, NULL,"
            " $1::jsonb, NULL)::procrastinate_job_to_defer_v1])",
            json.dumps({"event_id": rejected_id}),
        )

        async def all_done() -> bool:
            left = await conn2.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            return int(left) == 0

        await _eventually(all_done, what="the repeated mail job")
    finally:
        await conn2.close()
    assert len(inbox.mails) == 2


async def test_a_receiver_down_for_a_while_gets_every_event_once_in_order(
    container: Any, demo: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    hook.down = 3  # retried after 0.5, 1 and 2 s
    alice, hr = demo.principal("alice@acme.example"), demo.principal("hr@acme.example")
    await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED, REJECTED])
    workers()
    document_id = await _document_of(container, "alice@acme.example")
    await review(container, alice, document_id, SUBMITTED)
    await review(container, hr, document_id, REJECTED)
    await review(container, alice, document_id, SUBMITTED)
    await _eventually(lambda: len(hook.processed) == 3, what="three events")
    ids = [int(message["id"].removeprefix("evt_")) for message in hook.processed.values()]
    assert ids == sorted(ids) and [m["type"] for m in hook.processed.values()] == [SUBMITTED, REJECTED, SUBMITTED]
    assert len(hook.requests) == 3 + 3  # the first one three times refused, then each once

    async def recorded() -> list[tuple[str, int]]:  # the receiver answers before the worker records it
        found = [(d["status"], d["attempts"]) for d in await _deliveries(database_url)]
        return found if all(status == "DELIVERED" for status, _ in found) else []

    assert await _eventually(recorded, what="three deliveries recorded") == [
        ("DELIVERED", 4),
        ("DELIVERED", 1),
        ("DELIVERED", 1),
    ]


async def test_production_delivers_to_no_loopback_address(
    container: Any, demo: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    alice = demo.principal("alice@acme.example")
    await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED])  # 127.0.0.1
    await _endpoint(container, alice.company_id, url.replace("127.0.0.1", "localhost"), hook.secret, [SUBMITTED])
    workers(APP_ENV="production", WEBHOOK_ALLOW_LOOPBACK="true")  # the setting is ignored in production
    await review(container, alice, await _document_of(container, "alice@acme.example"), SUBMITTED)

    async def both_refused() -> list[asyncpg.Record]:
        found = await _deliveries(database_url)
        return found if len(found) == 2 and all(d["attempts"] >= 1 for d in found) else []

    for delivery in await _eventually(both_refused, what="two refused attempts"):
        assert delivery["status"] == "PENDING" and delivery["last_status_code"] is None
        assert "BlockedAddress" in delivery["last_error"] and "public address" in delivery["last_error"]
    assert hook.requests == []


JOBS = """query($status: JobStatus) { jobs(status: $status) { id what status attempts eventId lastError } }"""
RETRY = """mutation($id: ID!) { retryJob(id: $id) {
  __typename ... on JobPayload { job { status } } ... on Error { code message } } }"""


async def test_hr_sees_a_failed_delivery_job_and_retries_it(
    gql: Any, clean_queue: None, receiver: tuple[Receiver, str], workers: Any, database_url: str
) -> None:
    hook, url = receiver
    hook.down = 2  # both attempts refused
    container, demo = gql.demo.container, gql.demo
    alice = demo.principal("alice@acme.example")
    await _endpoint(container, alice.company_id, url, hook.secret, [SUBMITTED])
    workers(WEBHOOK_MAX_ATTEMPTS="2")
    await review(container, alice, await _document_of(container, "alice@acme.example"), SUBMITTED)

    async def failed() -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = (await gql.data(JOBS, {"status": "FAILED"}, as_user="hr@acme.example"))["jobs"]
        return jobs

    (job,) = await _eventually(failed, what="a failed job")
    assert (job["what"], job["attempts"], job["lastError"]) == ("WEBHOOK_DELIVERY", 2, "HTTP 503")
    assert (await gql.data(JOBS, {"status": "FAILED"}, as_user="hr@globex.example"))["jobs"] == []
    assert (await gql(JOBS, as_user="alice@acme.example"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = (await gql.data(RETRY, {"id": job["id"]}, as_user="hr@globex.example"))["retryJob"]
    assert refused["code"] == "NOT_FOUND"

    retried = (await gql.data(RETRY, {"id": job["id"]}, as_user="hr@acme.example"))["retryJob"]
    assert retried["__typename"] == "JobPayload", retried
    await _eventually(lambda: hook.processed, what="the retried delivery")
    assert [d["status"] for d in await _deliveries(database_url)] == ["DELIVERED"]
    assert await failed() == []
    again = (await gql.data(RETRY, {"id": job["id"]}, as_user="hr@acme.example"))["retryJob"]
    assert again["__typename"] == "ValidationError" and "only a FAILED job" in again["message"]


async def test_reminders_arrive_as_the_clock_moves_once_each_with_two_workers(
    container: Any, demo: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    inbox, _ = smtp
    today = datetime.now(UTC).date()
    due = await _document_of(container, "alice@acme.example")
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE documents SET due_on = NULL"))
        await conn.execute(
            sa.text("UPDATE documents SET due_on = :d WHERE id = :id"), {"d": today + timedelta(10), "id": due}
        )
        # approved: nothing left to do, no reminder
        await conn.execute(
            sa.text("UPDATE documents SET due_on = :d, status = 'APPROVED' WHERE id <> :id AND owner_id = :o"),
            {"d": today + timedelta(10), "id": due, "o": demo.id("alice@acme.example")},
        )
    subjects = lambda: [BytesParser(policy=policy.default).parsebytes(m[1])["Subject"] for m in inbox.mails]  # noqa: E731
    try:
        for _ in range(2):
            workers(REMINDER_SCAN_SECONDS="0.3")
        await asyncio.sleep(2)
        assert inbox.mails == []  # ten days ahead: nothing yet

        _clock(database_url, "advance", "7d")
        await _eventually(lambda: len(inbox.mails) >= 1, what="the reminder 3 days before")
        _clock(database_url, "advance", "3d")
        await _eventually(lambda: len(inbox.mails) >= 2, what="the reminder on the day")
        await asyncio.sleep(1.5)  # several scans by both workers later
        assert subjects() == ["A document is due in 3 days", "A document is due today"]
        assert {tuple(m[0]) for m in inbox.mails} == {("alice@acme.example",)}

        # a moved due date is reminded again on its own schedule
        async with container.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE documents SET due_on = due_on + 5 WHERE id = :id"), {"id": due})
        _clock(database_url, "advance", "2d")
        await _eventually(lambda: len(inbox.mails) >= 3, what="the rescheduled reminder")
        await asyncio.sleep(1.0)
        assert subjects()[2:] == ["A document is due in 3 days"]
    finally:
        _clock(database_url, "reset")

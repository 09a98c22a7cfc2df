"""Webhook deliveries: one row per (endpoint, event) in ``webhook_deliveries``, one job each.

``fan_out`` (a job per event, from the relay) inserts the deliveries of the event's matching
endpoints and enqueues their jobs in one transaction; the rows' unique key makes a second run
of the same event add nothing. ``deliver`` sends one signed message and records the attempt; a
delivery already DELIVERED is never sent again, whichever job runs it. The message keeps its
``webhook-id`` across retries: a receiver that saw it (a worker killed after the receiver
answered, before the answer was recorded) drops the repeat, as Standard Webhooks asks.

Addresses are checked when the message is sent: the host's every resolved address must be
public (no private, loopback, link-local or reserved one), and the connection goes to the
addresses checked (no second look-up); redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from standardwebhooks.webhooks import Webhook

from adapters.jobs.notifications import NOTIFY_CHANNEL, OUTBOX_LOCK
from domains.webhook.model import message_id, webhook_message

PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
ENDPOINT_DISABLED = "WebhookEndpointDisabled"
MAX_ERROR = 500


class BlockedAddress(Exception):
    pass


class DeliveryFailed(Exception):
    """The attempt failed (an error status, a refused address, a network error): retried."""


def address_allowed(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global or (allow_loopback and ip.is_loopback)


class GuardedResolver(AbstractResolver):
    """Resolves as the system does, then keeps only the allowed addresses (none: refused)."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [info for info in found if address_allowed(info["host"], self.allow_loopback)]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to no public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class Sender:
    """POSTs signed messages; one per worker process."""

    def __init__(self, timeout_seconds: float, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.allow_loopback), use_dns_cache=False)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        host = urlsplit(url).hostname or ""
        try:  # aiohttp connects to an IP literal without asking the resolver: checked here
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None and not address_allowed(str(literal), self.allow_loopback):
            raise BlockedAddress(f"{host} is not a public address")
        assert self._session is not None, "the sender is not open"
        async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            await response.content.read(64 * 1024)
            return response.status


def signed_headers(secret: str, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """Standard Webhooks headers. The timestamp is the wall clock's: receivers check it against theirs."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent_at, body),
        "user-agent": "hr-graph-webhooks",
    }


async def fan_out(pool: AsyncConnectionPool, event_id: int, deliver_task: str, queue: str = "default") -> int:
    """The deliveries of one event to its company's endpoints, with their jobs; how many are new."""
    async with pool.connection() as conn, conn.transaction():
        event = await (await conn.execute("SELECT type, company_id FROM events WHERE id = %s", (event_id,))).fetchone()
        if event is None:  # pruned before it was relayed
            return 0
        rows = await (
            await conn.execute(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status)"
                " SELECT id, %s, %s, %s FROM webhook_endpoints"
                " WHERE company_id = %s AND enabled AND %s = ANY (event_types)"
                " ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id, endpoint_id",
                (event_id, event[0], PENDING, event[1], event[0]),
            )
        ).fetchall()
        for delivery_id, endpoint_id in rows:
            # one endpoint's deliveries run one at a time, in order (a lock per endpoint)
            await conn.execute(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, NULL, %s::jsonb, NULL)"
                "::procrastinate_job_to_defer_v1])",
                (queue, deliver_task, f"webhook-endpoint:{endpoint_id}", json.dumps({"delivery_id": delivery_id})),
            )
        return len(rows)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    response_ms: int


async def deliver(
    pool: AsyncConnectionPool,
    sender: Sender,
    delivery_id: int,
    *,
    final: bool,
    retry_in: float,
    disable_after: int = 0,
) -> bool:
    """Sends one delivery unless already delivered; True when delivered now or before. A failed
    attempt is recorded (FAILED when ``final``) and raised as ``DeliveryFailed``. When the
    endpoint's last ``disable_after`` deliveries have all FAILED, it is disabled (0: never)."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT d.status, d.event_id, e.type, e.occurred_at, e.payload, w.url, w.secret, w.enabled"
                " FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id"
                " JOIN events e ON e.id = d.event_id WHERE d.id = %s",
                (delivery_id,),
            )
        ).fetchone()
    if row is None:
        return False
    status, event_id, event_type, occurred_at, payload, url, secret, enabled = row
    if status == DELIVERED:
        return True
    if not enabled:
        await _record(pool, delivery_id, Attempt(None, "endpoint disabled", 0), final=True, retry_in=0, disable_after=0)
        return False
    body = json.dumps(webhook_message(event_type, event_id, occurred_at, _payload(payload)), separators=(",", ":"))
    headers = signed_headers(secret, message_id(event_id), body, datetime.now(UTC))
    started = time.monotonic()
    try:
        code: int | None = await sender.post(url, body.encode(), headers)
        error = None if code is not None and 200 <= code < 300 else f"HTTP {code}"
    except (BlockedAddress, aiohttp.ClientError, TimeoutError, OSError) as problem:
        code, error = None, (f"{type(problem).__name__}: {problem}" if str(problem) else type(problem).__name__)
    attempt = Attempt(code, error, int((time.monotonic() - started) * 1000))
    await _record(pool, delivery_id, attempt, final=final, retry_in=retry_in, disable_after=disable_after)
    if error is not None:
        raise DeliveryFailed(error)
    return True


def _payload(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


async def _record(
    pool: AsyncConnectionPool, delivery_id: int, attempt: Attempt, *, final: bool, retry_in: float, disable_after: int
) -> None:
    ok = attempt.error is None
    status = DELIVERED if ok else (FAILED if final else PENDING)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = %s, last_status_code = %s,"
            " last_error = %s, last_response_ms = %s,"
            " next_attempt_at = CASE WHEN %s THEN now() + make_interval(secs => %s) END,"
            " delivered_at = CASE WHEN %s THEN now() END WHERE id = %s AND status <> %s",
            (
                status,
                attempt.status_code,
                (attempt.error or "")[:MAX_ERROR] or None,
                attempt.response_ms,
                status == PENDING,
                retry_in,
                ok,
                delivery_id,
                DELIVERED,
            ),
        )
        if status == FAILED and disable_after > 0:
            await _disable_if_failing(conn, delivery_id, disable_after)


async def _disable_if_failing(conn: AsyncConnection[Any], delivery_id: int, failures: int) -> None:
    """Disables the delivery's endpoint when its last ``failures`` finished deliveries all
    FAILED, and records ``WebhookEndpointDisabled`` (the notifications consumer tells HR), in
    the transaction that recorded the failure: disabled once, told once."""
    disabled = await (
        await conn.execute(
            "UPDATE webhook_endpoints w SET enabled = false"
            " WHERE w.id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = %(d)s) AND w.enabled"
            " AND (SELECT count(*) FILTER (WHERE s.status = 'FAILED') FROM (SELECT status FROM webhook_deliveries"
            "   WHERE endpoint_id = w.id AND status <> 'PENDING' ORDER BY id DESC LIMIT %(n)s) s) = %(n)s"
            " RETURNING w.id, w.company_id",
            {"d": delivery_id, "n": failures},
        )
    ).fetchone()
    if disabled is None:
        return
    payload = {"endpointId": str(disabled[0]), "companyId": str(disabled[1]), "failedDeliveries": failures}
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
    written = await (
        await conn.execute(
            "INSERT INTO events (type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at)"
            " VALUES (%s, 'webhook', %s, %s, NULL, %s::jsonb, now()) RETURNING id",
            (ENDPOINT_DISABLED, disabled[0], disabled[1], json.dumps(payload)),
        )
    ).fetchone()
    assert written is not None
    await conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(written[0])))

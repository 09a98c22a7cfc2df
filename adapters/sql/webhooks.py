"""The ``WebhookStore`` port in SQL (``webhook_endpoints``, ``webhook_deliveries``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from adapters.sql.jobs import WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from domains.webhook.service import Delivery, Endpoint

_ENDPOINT = (WEBHOOK_ENDPOINTS.c[n] for n in ("id", "company_id", "url", "event_types", "enabled", "created_at"))
_ENDPOINT_COLUMNS = tuple(_ENDPOINT)


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row.id, row.company_id, row.url, tuple(row.event_types), row.enabled, row.created_at)


class SqlWebhookStore:
    def __init__(self, db: RequestDatabase, deliver_task: str = "hrgraph.webhooks.deliver") -> None:
        self.db = db
        self.deliver_task = deliver_task
        """The queue's delivery task (``adapters/jobs/queue.DELIVER``: a test checks they agree)."""

    async def add(self, endpoint: Endpoint, secret: str, created_by: uuid.UUID) -> Endpoint:
        row = (
            await self.db.execute(
                sa.insert(WEBHOOK_ENDPOINTS)
                .values(
                    id=endpoint.id,
                    company_id=endpoint.company_id,
                    url=endpoint.url,
                    event_types=list(endpoint.event_types),
                    secret=secret,
                    enabled=endpoint.enabled,
                    created_by=created_by,
                )
                .returning(*_ENDPOINT_COLUMNS)
            )
        ).one()
        return _endpoint(row)

    async def find(self, company_id: uuid.UUID | None) -> Sequence[Endpoint]:
        query = sa.select(*_ENDPOINT_COLUMNS).order_by(WEBHOOK_ENDPOINTS.c.created_at, WEBHOOK_ENDPOINTS.c.id)
        if company_id is not None:
            query = query.where(WEBHOOK_ENDPOINTS.c.company_id == company_id)
        return [_endpoint(row) for row in await self.db.execute(query)]

    async def get(self, id: uuid.UUID) -> Endpoint | None:
        row = (await self.db.execute(sa.select(*_ENDPOINT_COLUMNS).where(WEBHOOK_ENDPOINTS.c.id == id))).first()
        return None if row is None else _endpoint(row)

    async def set_enabled(self, id: uuid.UUID, enabled: bool) -> None:
        await self.db.execute(sa.update(WEBHOOK_ENDPOINTS).where(WEBHOOK_ENDPOINTS.c.id == id).values(enabled=enabled))

    async def deliveries(self, endpoint_id: uuid.UUID, limit: int) -> Sequence[Delivery]:
        t = WEBHOOK_DELIVERIES
        query = sa.select(t).where(t.c.endpoint_id == endpoint_id).order_by(t.c.id.desc()).limit(limit)
        return [
            Delivery(**{c.name: row[c.name] for c in t.columns}) for row in (await self.db.execute(query)).mappings()
        ]

    async def delivery(self, id: int) -> Delivery | None:
        t = WEBHOOK_DELIVERIES
        row = (await self.db.execute(sa.select(t).where(t.c.id == id))).mappings().first()
        return None if row is None else Delivery(**{c.name: row[c.name] for c in t.columns})

    async def replay(self, delivery_id: int, endpoint_id: uuid.UUID) -> Delivery:
        t = WEBHOOK_DELIVERIES
        row = (
            (
                await self.db.execute(
                    sa.update(t)
                    .where(t.c.id == delivery_id)
                    .values(status="PENDING", next_attempt_at=sa.func.now(), delivered_at=None)
                    .returning(*t.c)
                )
            )
            .mappings()
            .one()
        )
        # one endpoint's deliveries run one at a time, in order: the fan-out's lock
        await self.db.execute(
            sa.text(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', :task, 0, :lock, NULL,"
                " jsonb_build_object('delivery_id', CAST(:id AS bigint)), NULL)::procrastinate_job_to_defer_v1])"
            ).bindparams(task=self.deliver_task, lock=f"webhook-endpoint:{endpoint_id}", id=delivery_id)
        )
        return Delivery(**{c.name: row[c.name] for c in t.columns})

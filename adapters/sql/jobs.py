"""Tables of the job queue's consumers (migration 0007): the relay's cursors, the consumers'
receipts, webhook endpoints and their delivery log, and the movable clock.

The queue itself is procrastinate's (its ``procrastinate_*`` tables, created by the same
migration from the SQL it ships). ``adapters/jobs`` reads and writes these tables with raw SQL
(adapter packages stay independent): their shape here is the published contract.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

_metadata = sa.MetaData()

RELAY_CURSORS = sa.Table(
    "relay_cursors",
    _metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

CONSUMER_RECEIPTS = sa.Table(
    "consumer_receipts",
    _metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.BigInteger(), primary_key=True),
    sa.Column("key", sa.String(320), primary_key=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

WEBHOOK_ENDPOINTS = sa.Table(
    "webhook_endpoints",
    _metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", ARRAY(sa.String(100)), nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.Uuid(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

WEBHOOK_DELIVERIES = sa.Table(
    "webhook_deliveries",
    _metadata,
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
    sa.Column("endpoint_id", sa.Uuid(), sa.ForeignKey("webhook_endpoints.id"), nullable=False),
    sa.Column("event_id", sa.BigInteger(), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # PENDING, DELIVERED, FAILED
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_status_code", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("last_response_ms", sa.Integer(), nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("endpoint_id", "event_id", name="webhook_deliveries_endpoint_id_event_id_key"),
)

CLOCK = sa.Table(
    "clock",
    _metadata,
    sa.Column("id", sa.Boolean(), primary_key=True, server_default=sa.true()),
    sa.Column("offset_seconds", sa.Float(), nullable=False, server_default="0"),
    sa.CheckConstraint("id", name="clock_one_row"),
)

JOB_TABLES = (RELAY_CURSORS, CONSUMER_RECEIPTS, WEBHOOK_ENDPOINTS, WEBHOOK_DELIVERIES, CLOCK)
QUEUE_TABLE_PREFIX = "procrastinate_"
"""The queue library's own tables: migrated from its SQL, not declared here."""

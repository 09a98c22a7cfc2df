"""the job queue (procrastinate 3.10.0's schema), the relay's cursors, consumer receipts,
webhook endpoints and deliveries, the movable clock

Revision ID: 0008
Revises: 0007

procrastinate's schema is the SQL file beside this one, copied from the package
(``procrastinate/sql/schema.sql`` of 3.10.0). Upgrading procrastinate means a new migration
that applies its ``sql/migrations`` files from this version on.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_SCHEMA = Path(__file__).with_name("0008_procrastinate_3_10_0.sql")
CONSUMERS = ("webhooks", "mail")


def upgrade() -> None:
    # Many statements in one: asyncpg's simple query protocol, on the migration's own connection
    # (so in its transaction).
    script = QUEUE_SCHEMA.read_text()
    op.get_bind().connection.dbapi_connection.run_async(lambda driver: driver.execute(script))  # type: ignore[union-attr]
    op.create_table(
        "relay_cursors",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )
    # The consumers start after the events already there: none replays the past.
    for consumer in CONSUMERS:
        op.execute(
            sa.text(
                "INSERT INTO relay_cursors (consumer, last_event_id) SELECT :c, coalesce(max(id), 0) FROM events"
            ).bindparams(c=consumer)
        )
    op.create_table(
        "consumer_receipts",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", "key"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_endpoints_company_id", "webhook_endpoints", ["company_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_response_ms", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="webhook_deliveries_endpoint_id_event_id_key"),
    )
    op.create_table(
        "clock",
        sa.Column("id", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("offset_seconds", sa.Float(), server_default="0", nullable=False),
        sa.CheckConstraint("id", name="clock_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in ("clock", "webhook_deliveries", "webhook_endpoints", "consumer_receipts", "relay_cursors"):
        op.drop_table(table)
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
        " procrastinate_workers CASCADE"
    )
    op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status CASCADE")

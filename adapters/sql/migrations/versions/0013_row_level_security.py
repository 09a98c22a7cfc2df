"""row-level security on every company-scoped table, and the application's database role;
erasure requests

Revision ID: 0013
Revises: 0008

The policies are derived from the declarations (``adapters/sql/rls.py``), like the tables: a
table a later migration adds gets its policies by running ``rls.policy_statements`` for it
(``tests/integration/test_row_level_security.py`` fails until every company-scoped table of
the declarations has them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.sql import rls
from adapters.sql.tables import build_tables
from domains.catalog import build_registry
from domains.kernel.entity import Registry

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _declared() -> tuple[Registry, sa.MetaData, list[str]]:
    registry = build_registry()
    metadata = sa.MetaData()
    build_tables(registry, metadata)
    return registry, metadata, sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pseudonym", sa.String(length=64), nullable=True),
        sa.Column("files_deleted", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["confirmed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("company_id", "subject_id", "requested_by", "status", "confirmed_by"):
        op.create_index(f"ix_erasure_requests_{column}", "erasure_requests", [column])
    op.create_index("ix_erasure_requests_created_at_id", "erasure_requests", ["created_at", "id"])
    registry, metadata, existing = _declared()
    for statement in rls.upgrade_statements(registry, metadata, existing):
        op.execute(statement)
    if "audit_entries" in existing:  # append-only for the application's role too (0012's trigger aside)
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM {rls.APP_ROLE}")


def downgrade() -> None:
    registry, metadata, existing = _declared()
    for statement in rls.downgrade_statements(registry, metadata, existing):
        op.execute(statement)
    op.drop_table("erasure_requests")

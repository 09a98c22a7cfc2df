"""person data exports (exportPersonData), behind the database's wall like every
company-scoped table; a person's legal hold (users.legal_hold), which stops retention

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.sql import rls
from adapters.sql.tables import build_tables
from domains.catalog import build_registry

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "person_data_exports"


def _wall() -> rls.Wall:
    registry = build_registry()
    metadata = sa.MetaData()
    build_tables(registry, metadata)
    return next(w for w in rls.company_scoped(registry, metadata) if w.table == TABLE)


def upgrade() -> None:
    op.add_column("users", sa.Column("legal_hold", sa.Boolean(), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("archive_key", sa.String(length=400), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("download_url", sa.String(length=4000), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("company_id", "subject_id", "requested_by", "status"):
        op.create_index(f"ix_{TABLE}_{column}", TABLE, [column])
    op.create_index(f"ix_{TABLE}_created_at_id", TABLE, ["created_at", "id"])
    for statement in rls.policy_statements(_wall()):
        op.execute(statement)


def downgrade() -> None:
    for statement in rls.unprotect_statements(_wall()):
        op.execute(statement)
    op.drop_table(TABLE)
    op.drop_column("users", "legal_hold")

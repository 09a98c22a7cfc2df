"""each file version keeps its analysis; documents expire (expires_on) and renew (renews_id)

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("document_versions", sa.Column("analysis", postgresql.JSONB(), nullable=True))
    op.add_column("documents", sa.Column("expires_on", sa.Date(), nullable=True))
    op.add_column("documents", sa.Column("renews_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_documents_expires_on"), "documents", ["expires_on"], unique=False)
    op.create_index(op.f("ix_documents_renews_id"), "documents", ["renews_id"], unique=False)
    op.create_foreign_key(op.f("fk_documents_renews_id_documents"), "documents", "documents", ["renews_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_documents_renews_id_documents"), "documents", type_="foreignkey")
    op.drop_index(op.f("ix_documents_renews_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_expires_on"), table_name="documents")
    op.drop_column("documents", "renews_id")
    op.drop_column("documents", "expires_on")
    op.drop_column("document_versions", "analysis")

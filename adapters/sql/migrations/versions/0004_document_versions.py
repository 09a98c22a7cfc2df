"""documents: file versions and the pending upload; document_versions

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("file_version", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column("documents", "file_version", server_default=None)
    op.add_column("documents", sa.Column("pending_file_name", sa.String(length=255), nullable=True))
    op.add_column("documents", sa.Column("pending_content_type", sa.String(length=100), nullable=True))
    op.add_column("documents", sa.Column("pending_size_bytes", sa.Integer(), nullable=True))
    op.add_column("documents", sa.Column("pending_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "document_versions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=400), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("document_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("document_versions")
    op.drop_column("documents", "pending_expires_at")
    op.drop_column("documents", "pending_size_bytes")
    op.drop_column("documents", "pending_content_type")
    op.drop_column("documents", "pending_file_name")
    op.drop_column("documents", "file_version")

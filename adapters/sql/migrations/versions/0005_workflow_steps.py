"""workflow_steps, and the reason a workflow was cancelled

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"  # main has 0003 (outbox); the documents branch adds 0004 on it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflows", sa.Column("cancel_reason", sa.String(length=500), nullable=True))
    op.create_table(
        "workflow_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("document_kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("company_id", "workflow_id", "subject_id", "document_id", "title", "position", "status", "due_on"):
        op.create_index(op.f(f"ix_workflow_steps_{column}"), "workflow_steps", [column], unique=False)
    op.create_index("ix_workflow_steps_created_at_id", "workflow_steps", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("workflow_steps")
    op.drop_column("workflows", "cancel_reason")

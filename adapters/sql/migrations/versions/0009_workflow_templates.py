"""workflow templates as data (templates, their steps, published versions), steps of three
kinds (documents, tasks, approvals) with dependencies and assignees, approvers' decisions and
their delegations

Revision ID: 0009
Revises: 0008

Existing steps are documents with no dependencies: the new columns of ``workflow_steps`` take
those values for the rows already there (a server default used once, then dropped, so the
table matches its declaration).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflow_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "code", name="workflow_templates_company_id_code_key"),
    )
    op.create_index(op.f("ix_workflow_templates_company_id"), "workflow_templates", ["company_id"], unique=False)
    op.create_index("ix_workflow_templates_created_at_id", "workflow_templates", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_workflow_templates_kind"), "workflow_templates", ["kind"], unique=False)
    op.create_index(op.f("ix_workflow_templates_status"), "workflow_templates", ["status"], unique=False)
    op.create_index(op.f("ix_workflow_templates_title"), "workflow_templates", ["title"], unique=False)
    op.create_table(
        "workflow_template_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["workflow_templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_workflow_template_versions_company_id"), "workflow_template_versions", ["company_id"], unique=False
    )
    op.create_index(
        "ix_workflow_template_versions_created_at_id", "workflow_template_versions", ["created_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_workflow_template_versions_number"), "workflow_template_versions", ["number"], unique=False
    )
    op.create_index(
        op.f("ix_workflow_template_versions_published_by"), "workflow_template_versions", ["published_by"], unique=False
    )
    op.create_index(
        op.f("ix_workflow_template_versions_template_id"), "workflow_template_versions", ["template_id"], unique=False
    )
    op.create_table(
        "workflow_template_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_kind", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("approvers", sa.String(length=1000), nullable=True),
        sa.Column("depends_on", sa.String(length=1000), nullable=True),
        sa.Column("reject_to", sa.String(length=64), nullable=True),
        sa.Column("due_from", sa.String(length=64), nullable=False),
        sa.Column("due_offset_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["workflow_templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_workflow_template_steps_company_id"), "workflow_template_steps", ["company_id"], unique=False
    )
    op.create_index(
        "ix_workflow_template_steps_created_at_id", "workflow_template_steps", ["created_at", "id"], unique=False
    )
    op.create_index(op.f("ix_workflow_template_steps_key"), "workflow_template_steps", ["key"], unique=False)
    op.create_index(op.f("ix_workflow_template_steps_position"), "workflow_template_steps", ["position"], unique=False)
    op.create_index(
        op.f("ix_workflow_template_steps_template_id"), "workflow_template_steps", ["template_id"], unique=False
    )
    op.create_table(
        "approval_delegations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("delegator_id", sa.Uuid(), nullable=False),
        sa.Column("delegate_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["delegator_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_approval_delegations_company_id"), "approval_delegations", ["company_id"], unique=False)
    op.create_index("ix_approval_delegations_created_at_id", "approval_delegations", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_approval_delegations_delegate_id"), "approval_delegations", ["delegate_id"], unique=False)
    op.create_index(
        op.f("ix_approval_delegations_delegator_id"), "approval_delegations", ["delegator_id"], unique=False
    )
    op.create_index(op.f("ix_approval_delegations_ends_on"), "approval_delegations", ["ends_on"], unique=False)
    op.create_index(op.f("ix_approval_delegations_starts_on"), "approval_delegations", ["starts_on"], unique=False)
    op.create_table(
        "workflow_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=False),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["workflow_steps.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_workflow_decisions_company_id"), "workflow_decisions", ["company_id"], unique=False)
    op.create_index("ix_workflow_decisions_created_at_id", "workflow_decisions", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_decided_by"), "workflow_decisions", ["decided_by"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_level"), "workflow_decisions", ["level"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_on_behalf_of"), "workflow_decisions", ["on_behalf_of"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_step_id"), "workflow_decisions", ["step_id"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_subject_id"), "workflow_decisions", ["subject_id"], unique=False)
    op.create_index(op.f("ix_workflow_decisions_workflow_id"), "workflow_decisions", ["workflow_id"], unique=False)
    op.add_column(
        "workflow_steps", sa.Column("kind", sa.String(length=64), nullable=False, server_default=sa.text("'DOCUMENT'"))
    )
    op.add_column(
        "workflow_steps", sa.Column("key", sa.String(length=64), nullable=False, server_default=sa.text("''"))
    )
    op.add_column(
        "workflow_steps", sa.Column("depends_on", sa.String(length=1000), nullable=False, server_default=sa.text("''"))
    )
    op.add_column("workflow_steps", sa.Column("assignee_rule", sa.String(length=200), nullable=True))
    op.add_column("workflow_steps", sa.Column("assignee_id", sa.Uuid(), nullable=True))
    op.add_column("workflow_steps", sa.Column("assignee_group", sa.String(length=64), nullable=True))
    op.add_column(
        "workflow_steps", sa.Column("approvers", sa.String(length=1000), nullable=False, server_default=sa.text("''"))
    )
    op.add_column("workflow_steps", sa.Column("level", sa.Integer(), nullable=False, server_default=sa.text("'0'")))
    op.add_column("workflow_steps", sa.Column("reject_to", sa.String(length=64), nullable=True))
    op.add_column("workflow_steps", sa.Column("note", sa.String(length=2000), nullable=True))
    op.add_column("workflow_steps", sa.Column("done_by", sa.Uuid(), nullable=True))
    op.add_column("workflow_steps", sa.Column("round", sa.Integer(), nullable=False, server_default=sa.text("'0'")))
    for column in ("kind", "key", "depends_on", "approvers", "level", "round"):
        op.alter_column("workflow_steps", column, server_default=None)
    op.execute("UPDATE workflow_steps SET key = 'step-' || position")
    op.alter_column("workflow_steps", "document_id", existing_type=sa.UUID(), nullable=True)
    op.alter_column("workflow_steps", "document_kind", existing_type=sa.VARCHAR(length=64), nullable=True)
    op.create_index(op.f("ix_workflow_steps_assignee_id"), "workflow_steps", ["assignee_id"], unique=False)
    op.create_index(op.f("ix_workflow_steps_done_by"), "workflow_steps", ["done_by"], unique=False)
    op.create_foreign_key("workflow_steps_assignee_id_fkey", "workflow_steps", "users", ["assignee_id"], ["id"])
    op.create_foreign_key("workflow_steps_done_by_fkey", "workflow_steps", "users", ["done_by"], ["id"])
    op.add_column("workflows", sa.Column("started_on", sa.Date(), nullable=True))
    op.add_column("workflows", sa.Column("template_version_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_workflows_template_version_id"), "workflows", ["template_version_id"], unique=False)
    op.create_foreign_key(
        "workflows_template_version_id_fkey", "workflows", "workflow_template_versions", ["template_version_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("workflows_template_version_id_fkey", "workflows", type_="foreignkey")
    op.drop_index(op.f("ix_workflows_template_version_id"), table_name="workflows")
    op.drop_column("workflows", "template_version_id")
    op.drop_column("workflows", "started_on")
    op.drop_constraint("workflow_steps_done_by_fkey", "workflow_steps", type_="foreignkey")
    op.drop_constraint("workflow_steps_assignee_id_fkey", "workflow_steps", type_="foreignkey")
    op.drop_index(op.f("ix_workflow_steps_done_by"), table_name="workflow_steps")
    op.drop_index(op.f("ix_workflow_steps_assignee_id"), table_name="workflow_steps")
    op.alter_column("workflow_steps", "document_kind", existing_type=sa.VARCHAR(length=64), nullable=False)
    op.alter_column("workflow_steps", "document_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("workflow_steps", "round")
    op.drop_column("workflow_steps", "done_by")
    op.drop_column("workflow_steps", "note")
    op.drop_column("workflow_steps", "reject_to")
    op.drop_column("workflow_steps", "level")
    op.drop_column("workflow_steps", "approvers")
    op.drop_column("workflow_steps", "assignee_group")
    op.drop_column("workflow_steps", "assignee_id")
    op.drop_column("workflow_steps", "assignee_rule")
    op.drop_column("workflow_steps", "depends_on")
    op.drop_column("workflow_steps", "key")
    op.drop_column("workflow_steps", "kind")
    op.drop_index(op.f("ix_workflow_decisions_workflow_id"), table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_subject_id"), table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_step_id"), table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_on_behalf_of"), table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_level"), table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_decided_by"), table_name="workflow_decisions")
    op.drop_index("ix_workflow_decisions_created_at_id", table_name="workflow_decisions")
    op.drop_index(op.f("ix_workflow_decisions_company_id"), table_name="workflow_decisions")
    op.drop_table("workflow_decisions")
    op.drop_index(op.f("ix_approval_delegations_starts_on"), table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_ends_on"), table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_delegator_id"), table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_delegate_id"), table_name="approval_delegations")
    op.drop_index("ix_approval_delegations_created_at_id", table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_company_id"), table_name="approval_delegations")
    op.drop_table("approval_delegations")
    op.drop_index(op.f("ix_workflow_template_steps_template_id"), table_name="workflow_template_steps")
    op.drop_index(op.f("ix_workflow_template_steps_position"), table_name="workflow_template_steps")
    op.drop_index(op.f("ix_workflow_template_steps_key"), table_name="workflow_template_steps")
    op.drop_index("ix_workflow_template_steps_created_at_id", table_name="workflow_template_steps")
    op.drop_index(op.f("ix_workflow_template_steps_company_id"), table_name="workflow_template_steps")
    op.drop_table("workflow_template_steps")
    op.drop_table("workflow_template_versions")
    op.drop_index(op.f("ix_workflow_templates_title"), table_name="workflow_templates")
    op.drop_index(op.f("ix_workflow_templates_status"), table_name="workflow_templates")
    op.drop_index(op.f("ix_workflow_templates_kind"), table_name="workflow_templates")
    op.drop_index("ix_workflow_templates_created_at_id", table_name="workflow_templates")
    op.drop_index(op.f("ix_workflow_templates_company_id"), table_name="workflow_templates")
    op.drop_table("workflow_templates")

"""a user's email is unique within its company, not across companies

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("users_email_key", "users", type_="unique")
    op.create_unique_constraint("users_company_id_email_key", "users", ["company_id", "email"])


def downgrade() -> None:
    # Fails, as it should, once two companies share an email.
    op.drop_constraint("users_company_id_email_key", "users", type_="unique")
    op.create_unique_constraint("users_email_key", "users", ["email"])

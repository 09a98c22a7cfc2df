"""company names are free (a taken name told HR that another tenant has it); slugs stay unique

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("companies_name_key", "companies", type_="unique")
    op.create_index("ix_companies_name", "companies", ["name"], unique=False)  # sorted and filtered by


def downgrade() -> None:
    # Fails, as it should, once two companies share a name.
    op.drop_index("ix_companies_name", table_name="companies")
    op.create_unique_constraint("companies_name_key", "companies", ["name"])

"""documents keep why HR rejected the latest file (shown to the person who must upload again)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("rejection_reason", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "rejection_reason")

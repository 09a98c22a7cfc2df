"""row-level security on every company-scoped table, and the application's database role

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
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _declared() -> tuple[Registry, sa.MetaData, list[str]]:
    registry = build_registry()
    metadata = sa.MetaData()
    build_tables(registry, metadata)
    return registry, metadata, sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    registry, metadata, existing = _declared()
    for statement in rls.upgrade_statements(registry, metadata, existing):
        op.execute(statement)


def downgrade() -> None:
    registry, metadata, existing = _declared()
    for statement in rls.downgrade_statements(registry, metadata, existing):
        op.execute(statement)

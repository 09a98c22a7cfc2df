"""Row-level security: PostgreSQL keeps companies apart a second time, behind the application.

The application scopes every statement to the caller's company (``domains/kernel/access.py``).
Should one statement miss that scope, the database still answers only the caller's company's
rows: every company-scoped table has row-level security, with policies that read the caller
from two settings (``hrgraph.company_id``, ``hrgraph.role``; and ``hrgraph.user_id``, by which
a person always sees their own user row, which is how a token's user is looked up).

- Which tables, and how, is derived from the declarations (``company_scoped``): an entity's
  table by its tenant field (``company_id``, or ``id`` for ``companies``), any other declared
  table by its ``company_id`` column, and a table without one by a required foreign key to a
  protected table (``document_versions`` by its document): its rows are visible when the row
  it belongs to is.
- ADMIN's reach is a policy too (``hrgraph.role = 'ADMIN'``), next to the company's.
- The application's requests run as ``APP_ROLE``, which owns no table and has no BYPASSRLS:
  its pool logs in as the owner and takes the role at connection start (a startup setting,
  no statement). The owner (migrations, the seed, the outbox listener, the job queue and its
  worker, the CLI) is not subject to the policies: RLS is enabled, not forced.
- Each transaction sets the caller with ``set_config(..., true)`` (local to it); a read outside
  a transaction sets it for the connection when the pooled connection holds another caller's
  settings (``RequestDatabase``), which costs nothing while a connection serves one company.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domains.kernel.entity import Registry
from domains.kernel.principal import Principal, Role

APP_ROLE = "hrgraph_app"
"""The database role the application's requests run as: no table's owner, no BYPASSRLS."""

COMPANY_SETTING = "hrgraph.company_id"
ROLE_SETTING = "hrgraph.role"
USER_SETTING = "hrgraph.user_id"

POLICY_COMPANY = "company_wall"
POLICY_ADMIN = "admin_reach"
POLICY_SELF = "own_user_row"
POLICY_PARENT = "parent_wall"
POLICIES = (POLICY_COMPANY, POLICY_ADMIN, POLICY_SELF, POLICY_PARENT)


@dataclass(frozen=True, slots=True)
class DatabaseScope:
    """Who the database answers: the values of the settings the policies read."""

    user_id: str
    company_id: str
    role: str

    @classmethod
    def of(cls, actor: Principal) -> DatabaseScope:
        role = Role.ADMIN.value if actor.is_admin else ",".join(sorted(r.value for r in actor.roles))
        return cls(str(actor.user_id), str(actor.company_id), role)

    @classmethod
    def signing_in(cls, user_id: uuid.UUID) -> DatabaseScope:
        """A token's user before their company is known: their own user row, nothing else."""
        return cls(str(user_id), "", "")


NOBODY = DatabaseScope("", "", "")
"""No caller: the policies let nothing through."""

_SCOPE_STATEMENT = sa.text(
    "SELECT set_config('hrgraph.company_id', :company_id, :local), set_config('hrgraph.role', :role, :local),"
    " set_config('hrgraph.user_id', :user_id, :local)"
)


def scope_statement(scope: DatabaseScope, *, local: bool) -> tuple[sa.TextClause, dict[str, Any]]:
    return _SCOPE_STATEMENT, {
        "company_id": scope.company_id,
        "role": scope.role,
        "user_id": scope.user_id,
        "local": local,
    }


# --- the policies, derived from the declarations ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Wall:
    """One protected table: by its own tenant column, or through ``parent`` by ``column``."""

    table: str
    column: str
    parent: str | None = None
    self_column: str | None = None  # the user table: a person's own row by this column


def _setting(name: str) -> str:
    return f"NULLIF(current_setting('{name}', true), '')::uuid"


def company_scoped(registry: Registry, metadata: sa.MetaData) -> list[Wall]:
    """Every company-scoped table of the declarations, in an order parents come first."""
    walls: dict[str, Wall] = {}
    for spec in registry:
        walls[spec.table] = Wall(spec.table, spec.tenant_field, self_column="id" if spec.owner_field == "id" else None)
    for table in metadata.sorted_tables:
        if table.name not in walls and "company_id" in table.c:
            walls[table.name] = Wall(table.name, "company_id")
    for table in metadata.sorted_tables:
        if table.name in walls:
            continue
        # The key's own columns first, then in the table's order: one answer, every time.
        for column in sorted(table.columns, key=lambda c: not c.primary_key):
            parents = [k.column.table.name for k in column.foreign_keys if k.column.table.name in walls]
            if parents and not column.nullable:
                walls[table.name] = Wall(table.name, column.name, parent=parents[0])
                break
    return list(walls.values())


def policy_statements(wall: Wall) -> list[str]:
    """Idempotent: run again, the table ends with exactly these policies."""
    t = f'"{wall.table}"'
    admin = f"current_setting('{ROLE_SETTING}', true) = 'ADMIN'"
    statements = [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        *(f"DROP POLICY IF EXISTS {name} ON {t}" for name in POLICIES),
        f"CREATE POLICY {POLICY_ADMIN} ON {t} USING ({admin}) WITH CHECK ({admin})",
    ]
    if wall.parent is None:
        own = f'"{wall.column}" = {_setting(COMPANY_SETTING)}'
        statements.append(f"CREATE POLICY {POLICY_COMPANY} ON {t} USING ({own}) WITH CHECK ({own})")
    else:
        # The parent's policies apply inside the sub-query: a row is visible when its parent is.
        parent = f'EXISTS (SELECT 1 FROM "{wall.parent}" p WHERE p.id = {t}."{wall.column}")'
        statements.append(f"CREATE POLICY {POLICY_PARENT} ON {t} USING ({parent}) WITH CHECK ({parent})")
    if wall.self_column is not None:
        statements.append(
            f'CREATE POLICY {POLICY_SELF} ON {t} FOR SELECT USING ("{wall.self_column}" = {_setting(USER_SETTING)})'
        )
    return statements


def unprotect_statements(wall: Wall) -> list[str]:
    t = f'"{wall.table}"'
    return [
        *(f"DROP POLICY IF EXISTS {name} ON {t}" for name in POLICIES),
        f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
    ]


# Roles are the cluster's, not one database's: many databases migrate at once (the tests), so
# creating the role or granting it may race another migration; either outcome is the same role.
_ROLE = f"""
DO $$
DECLARE attempt int := 0;
BEGIN
  LOOP
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
      END IF;
      IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
      END IF;
      EXIT;
    EXCEPTION WHEN duplicate_object OR unique_violation OR internal_error THEN
      attempt := attempt + 1;
      IF attempt > 20 THEN RAISE; END IF;
      PERFORM pg_sleep(0.05);
    END;
  END LOOP;
END $$
"""

_GRANTS = (
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    # Tables later migrations create get the same grants (a migration may take some back).
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}",
)


def role_statements() -> list[str]:
    return [_ROLE, *_GRANTS]


def revoke_statements() -> list[str]:
    return [
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP_ROLE}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}",
        f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}",
    ]


def upgrade_statements(registry: Registry, metadata: sa.MetaData, existing: Iterable[str]) -> list[str]:
    """The role, its grants, and the policies of every company-scoped table that exists."""
    present = set(existing)
    walls = [w for w in company_scoped(registry, metadata) if w.table in present]
    return [*role_statements(), *(s for w in walls for s in policy_statements(w))]


def downgrade_statements(registry: Registry, metadata: sa.MetaData, existing: Sequence[str]) -> list[str]:
    present = set(existing)
    walls = [w for w in company_scoped(registry, metadata) if w.table in present]
    return [*(s for w in walls for s in unprotect_statements(w)), *revoke_statements()]

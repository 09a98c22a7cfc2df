"""The benchmark's own database: create, migrate, seed, bulk-load, drop."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from domains.document.model import DocumentKind, DocumentStatus
from domains.kernel.principal import Role

EXTRA_USERS_PER_COMPANY = 50


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database``, as a plain ``postgresql://`` DSN asyncpg understands."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(server_url: str) -> tuple[str, str]:
    name = f"hrgraph_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(plain_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(plain_dsn(server_url))
    try:
        # FORCE: a pool left behind by a failed run must not keep the database alive.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Loaded:
    companies: int
    users: int
    documents: int


async def bulk_load(url: str, documents: int, seed: int = 42) -> Loaded:
    """Extra users per company and ``documents`` documents spread over every company's users."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    conn = await asyncpg.connect(url)
    try:
        companies = await conn.fetch("SELECT id, slug FROM companies WHERE deleted_at IS NULL")
        user_rows = []
        for company in companies:
            for i in range(EXTRA_USERS_PER_COMPANY):
                created = now - dt.timedelta(days=400, seconds=rng.randrange(86_400 * 30))
                user_rows.append(
                    (
                        uuid.uuid4(),
                        1,
                        created,
                        created,
                        None,
                        company["id"],
                        f"bench.user{i:03d}@{company['slug']}.example",
                        f"Bench User {i:03d}",
                        Role.EMPLOYEE.value,
                        None,
                    )
                )
        await conn.copy_records_to_table(
            "users",
            records=user_rows,
            columns=[
                "id",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
                "company_id",
                "email",
                "full_name",
                "role",
                "manager_id",
            ],
        )
        owners = await conn.fetch("SELECT id, company_id FROM users WHERE deleted_at IS NULL")
        kinds = list(DocumentKind)
        statuses = list(DocumentStatus)
        today = now.date()
        doc_rows = []
        for i in range(documents):
            owner = rng.choice(owners)
            kind = rng.choice(kinds)
            # Distinct instants over the past year, so ordering by created_at is meaningful.
            created = now - dt.timedelta(days=1, seconds=rng.randrange(86_400 * 365), microseconds=i)
            doc_rows.append(
                (
                    uuid.uuid4(),
                    1,
                    created,
                    created,
                    None,
                    owner["company_id"],
                    owner["id"],
                    f"{kind.value.replace('_', ' ').title()} #{i:05d}",
                    kind.value,
                    rng.choice(statuses).value,
                    today + dt.timedelta(days=rng.randrange(-30, 90)) if rng.random() < 0.8 else None,
                    None if rng.random() < 0.7 else "Loaded by the benchmark.",
                    0,  # no file uploaded yet (the column is NOT NULL)
                )
            )
        await conn.copy_records_to_table(
            "documents",
            records=doc_rows,
            columns=[
                "id",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
                "company_id",
                "owner_id",
                "title",
                "kind",
                "status",
                "due_on",
                "note",
                "file_version",
            ],
        )
        await conn.execute("ANALYZE")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM companies) AS c, (SELECT count(*) FROM users) AS u,"
            " (SELECT count(*) FROM documents) AS d"
        )
        return Loaded(companies=counts["c"], users=counts["u"], documents=counts["d"])
    finally:
        await conn.close()


@dataclass
class Viewer:
    user_id: uuid.UUID
    company_id: uuid.UUID
    role: str
    email: str


async def viewer(url: str, email: str) -> Viewer:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT id, company_id, role, email FROM users WHERE email = $1 AND deleted_at IS NULL", email
        )
    finally:
        await conn.close()
    if row is None:
        raise RuntimeError(f"no user {email!r} in the benchmark database")
    return Viewer(row["id"], row["company_id"], row["role"], row["email"])


async def document_ids(url: str, company_id: uuid.UUID, *, editable: bool = False) -> list[uuid.UUID]:
    """The company's documents; ``editable``: only those ``updateDocument`` accepts (an
    approved document is frozen and an expired one is edited through its renewal, so W5 would
    answer FORBIDDEN for them)."""
    frozen = " AND status NOT IN ('APPROVED', 'EXPIRED')" if editable else ""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM documents WHERE company_id = $1 AND deleted_at IS NULL" + frozen, company_id
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]

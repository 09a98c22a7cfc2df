"""Development tokens (``python -m app token``) and the verifier every part of the app shares.

Issuing a token needs a user's id, company and role: one SQL statement on asyncpg. Not the
app's parts (``Container``): building them imports Strawberry, SQLAlchemy and the schema,
two thirds of a second before a token that a shell script waits for at every step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.auth.tokens import TokenSettings, TokenVerifier
from app.database import connect, shown_dsn
from app.settings import Settings
from app.startup import StartupError
from domains.kernel.principal import Principal, Role

if TYPE_CHECKING:
    import asyncpg

# users.email is stored lower-cased; a company is named by its slug or its name. Deleted users
# have no token; the seed's people never change company.
_PEOPLE = """
SELECT u.id, u.company_id, u.role, u.email, c.slug
FROM users u JOIN companies c ON c.id = u.company_id
WHERE u.deleted_at IS NULL AND u.email = $1
  AND ($2::text IS NULL OR c.slug = lower($2) OR c.name = $2)
ORDER BY c.slug
"""


@dataclass(frozen=True)
class TokenHolder:
    principal: Principal
    company_slug: str


def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        TokenSettings(
            secret=settings.secret,
            jwks_url=settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            max_age=timedelta(seconds=settings.token_max_age_seconds),
        )
    )


async def people_with_email(url: str, email: str, company: str | None) -> list[TokenHolder]:
    """The live users with this email (at the company with this slug or name, if given)."""
    import asyncpg

    conn = await connect(url)
    try:
        rows = await conn.fetch(_PEOPLE, email.strip().lower(), company.strip() if company else None)
    except asyncpg.UndefinedTableError:
        raise StartupError(
            f"the database at {shown_dsn(url)} has no tables yet: start the server once (make run),"
            " or run .venv/bin/python -m app migrate and seed"
        ) from None
    finally:
        await conn.close()
    return [TokenHolder(_principal(row), row["slug"]) for row in rows]


def _principal(row: asyncpg.Record) -> Principal:
    return Principal(
        uuid.UUID(str(row["id"])), uuid.UUID(str(row["company_id"])), frozenset({Role(row["role"])}), row["email"]
    )

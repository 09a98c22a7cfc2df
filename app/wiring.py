"""Builds the parts once per process, and a request's services once per request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth.tokens import TokenSettings, TokenVerifier
from adapters.sql.database import RequestDatabase, create_engine
from adapters.sql.store import SqlEntityStore
from adapters.sql.tables import build_tables
from app.settings import Settings
from domains.catalog import build_registry
from domains.kernel.crud import EntityService
from domains.kernel.entity import Registry
from domains.kernel.errors import Unauthenticated
from domains.kernel.principal import Principal, Role
from domains.kernel.query import PageLimits
from domains.user.model import User
from schema.context import Context
from schema.root import build_schema

# Seeding and the CLI act as the system, not as a person.
SYSTEM = Principal(user_id=uuid.UUID(int=0), company_id=uuid.UUID(int=0), roles=frozenset({Role.ADMIN}))


@dataclass
class Container:
    settings: Settings
    registry: Registry
    tables: dict[str, sa.Table]
    engine: AsyncEngine
    verifier: TokenVerifier
    schema: strawberry.Schema
    limits: PageLimits

    @classmethod
    def build(cls, settings: Settings, database_url: str) -> Container:
        registry = build_registry()
        return cls(
            settings=settings,
            registry=registry,
            tables=build_tables(registry),
            engine=create_engine(database_url, pool_size=settings.database_pool_size),
            verifier=TokenVerifier(
                TokenSettings(
                    secret=settings.secret,
                    jwks_url=settings.jwks_url,
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                )
            ),
            schema=build_schema(registry),
            limits=PageLimits(default=settings.page_default, maximum=settings.page_max),
        )

    def services(self, db: RequestDatabase) -> dict[str, EntityService[Any]]:
        store = SqlEntityStore(db, self.registry, self.tables)
        return {spec.name: EntityService(spec, store, self.registry, db, self.limits) for spec in self.registry}

    async def authenticate(
        self, authorization: str | None, services: dict[str, EntityService[Any]] | None = None
    ) -> tuple[Principal | None, str | None]:
        """The principal for an ``Authorization`` header value, or why there is none."""
        user, error = await self.signed_in_user(authorization, services)
        return (_principal(user) if user is not None else None), error

    async def signed_in_user(
        self, authorization: str | None, services: dict[str, EntityService[Any]] | None = None
    ) -> tuple[User | None, str | None]:
        """The stored user an ``Authorization`` header value speaks for, or why there is none.

        A valid signature proves who the token was issued to, not that this person still
        exists nor what they may do now: the user row is read (one primary-key look-up on the
        request's own database handle, so it shows in ``extensions.sql``) and its role and
        company are the ones that count. No cache: a deleted user is locked out at once.
        """
        if not authorization:
            return None, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "the Authorization header must be 'Bearer <token>'"
        try:
            claimed = self.verifier.verify(token.strip())
        except Unauthenticated as error:
            return None, error.message
        users = (services or self.services(RequestDatabase(self.engine)))["User"]
        (user,) = await users.get_many(SYSTEM, [claimed.user_id])
        if user is None:
            return None, "the user of this token is unknown (deleted, or from another database): get a new token"
        return user, None

    async def context(self, request_id: str, authorization: str | None, state: dict[str, Any]) -> Context:
        db = RequestDatabase(self.engine)
        services = self.services(db)
        user, auth_error = await self.signed_in_user(authorization, services)
        principal = _principal(user) if user is not None else None
        # The row just read is the one `me` asks for: the request's first operation starts
        # with it in its loader instead of reading it again (see OperationScope).
        state["viewer_record"] = user
        return Context(
            services=services,
            transaction=db.transaction,
            sql=db,
            request_id=request_id,
            principal=principal,
            auth_error=auth_error,
            development=not self.settings.production,
            request_state=state,
        )


def _principal(user: User) -> Principal:
    """Who is asking, from the stored row: never from a token's claims."""
    return Principal(user_id=user.id, company_id=user.company_id, roles=frozenset({user.role}), email=user.email)

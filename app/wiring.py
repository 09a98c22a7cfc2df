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
            schema=build_schema(registry, introspection=settings.introspection_enabled),
            limits=PageLimits(default=settings.page_default, maximum=settings.page_max),
        )

    def services(self, db: RequestDatabase) -> dict[str, EntityService[Any]]:
        store = SqlEntityStore(db, self.registry, self.tables)
        return {spec.name: EntityService(spec, store, self.registry, db, self.limits) for spec in self.registry}

    def authenticate(self, authorization: str | None) -> tuple[Principal | None, str | None]:
        """The principal for an ``Authorization`` header value, or why there is none."""
        if not authorization:
            return None, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "the Authorization header must be 'Bearer <token>'"
        try:
            return self.verifier.verify(token.strip()), None
        except Unauthenticated as error:
            return None, error.message

    def context(self, request_id: str, authorization: str | None, state: dict[str, Any]) -> Context:
        db = RequestDatabase(self.engine)
        principal, auth_error = self.authenticate(authorization)
        return Context(
            services=self.services(db),
            transaction=db.transaction,
            sql=db,
            request_id=request_id,
            principal=principal,
            auth_error=auth_error,
            development=not self.settings.production,
            request_state=state,
        )

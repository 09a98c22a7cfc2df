"""Builds the parts once per process, and a request's services once per request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth.tokens import TokenSettings, TokenVerifier
from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore, S3Settings
from adapters.sql.database import RequestDatabase, create_engine
from adapters.sql.documents import SqlDocumentFiles
from adapters.sql.store import SqlEntityStore
from adapters.sql.tables import build_tables
from app.settings import Settings
from domains.catalog import build_registry
from domains.document.ports import BlobStore
from domains.document.service import DocumentCommands, Expiry
from domains.document.store import KernelDocumentStore
from domains.kernel.crud import EntityService
from domains.kernel.entity import Registry
from domains.kernel.errors import Unauthenticated, Unavailable
from domains.kernel.events import EventHandler
from domains.kernel.principal import Principal, Role
from domains.kernel.query import PageLimits
from domains.user.model import User
from schema.context import Context
from schema.root import build_schema

HandlerBuilder = Callable[[dict[str, EntityService[Any]], dict[str, Any]], EventHandler]
"""Makes an event handler for one request from its entity services and use cases."""

# Seeding and the CLI act as the system, not as a person.
SYSTEM = Principal(user_id=uuid.UUID(int=0), company_id=uuid.UUID(int=0), roles=frozenset({Role.ADMIN}))


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def build_blob_store(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        return S3BlobStore(
            S3Settings(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.aws_region,
                access_key_id=settings.aws_access_key_id,
                secret_access_key=settings.aws_secret_access_key,
            )
        )
    return LocalBlobStore(settings.data_dir / "blobs", settings.public_url, settings.blob_signing_secret)


@dataclass
class Container:
    settings: Settings
    registry: Registry
    tables: dict[str, sa.Table]
    engine: AsyncEngine
    verifier: TokenVerifier
    schema: strawberry.Schema
    limits: PageLimits
    blobs: BlobStore
    # In-process domain event handlers, run in the recording transaction before commit; another
    # context reacts to an event's published payload here without importing the recording one.
    handlers: dict[str, list[HandlerBuilder]] = field(default_factory=dict)

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
            blobs=build_blob_store(settings),
        )

    def services(self, db: RequestDatabase) -> dict[str, EntityService[Any]]:
        store = SqlEntityStore(db, self.registry, self.tables)
        return {spec.name: EntityService(spec, store, self.registry, db, self.limits) for spec in self.registry}

    def on(self, event_type: str, build: HandlerBuilder) -> None:
        """``build`` makes the handler for one request from its services and use cases (by
        domain name), so that the handler works on that request's unit of work, e.g.
        ``container.on("DocumentApproved", lambda services, use_cases: use_cases["workflow"].on_document_decided)``."""
        self.handlers.setdefault(event_type, []).append(build)

    def use_cases(self, db: RequestDatabase, services: dict[str, EntityService[Any]]) -> dict[str, Any]:
        """Each domain's command services for one request, on its unit of work."""
        expiry = Expiry(
            upload=timedelta(seconds=self.settings.upload_expiry_seconds),
            download=timedelta(seconds=self.settings.download_expiry_seconds),
        )
        return {
            "document": DocumentCommands(
                KernelDocumentStore(services["Document"]), SqlDocumentFiles(db), self.blobs, SystemClock(), db, expiry
            ),
        }

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
        auth_failure: Unavailable | None = None
        try:
            user, auth_error = await self.signed_in_user(authorization, services)
        except Unavailable as error:  # answered as SERVICE_UNAVAILABLE, not as a fault
            user, auth_error, auth_failure = None, None, error
        principal = _principal(user) if user is not None else None
        # The row just read is the one `me` asks for: the request's first operation starts
        # with it in its loader instead of reading it again (see OperationScope).
        state["viewer_record"] = user
        use_cases = self.use_cases(db, services)
        for event_type, builders in self.handlers.items():
            for build in builders:
                db.on(event_type, build(services, use_cases))
        return Context(
            services=services,
            use_cases=use_cases,
            transaction=db.transaction,
            sql=db,
            request_id=request_id,
            principal=principal,
            auth_error=auth_error,
            auth_failure=auth_failure,
            development=not self.settings.production,
            request_state=state,
        )


def _principal(user: User) -> Principal:
    """Who is asking, from the stored row: never from a token's claims."""
    return Principal(user_id=user.id, company_id=user.company_id, roles=frozenset({user.role}), email=user.email)

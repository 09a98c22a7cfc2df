"""Builds the parts once per process, and a request's services once per request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth.tokens import TokenVerifier
from adapters.blobs.local import LocalBlobStore
from adapters.events.feed import OutboxFeed
from adapters.jobs.clock import StoredClock
from adapters.sql.database import RequestDatabase, create_engine
from adapters.sql.documents import SqlDocumentFiles
from adapters.sql.job_queue import SqlJobQueue
from adapters.sql.store import SqlEntityStore
from adapters.sql.tables import build_tables
from adapters.sql.webhooks import SqlWebhookStore
from app.settings import Settings
from app.socket_limits import SocketLimits
from app.socket_rights import StoredPrincipals
from app.tokens import verifier
from domains.catalog import build_registry
from domains.document.events import EVENT_TYPES as DOCUMENT_EVENTS
from domains.document.model import DocumentKind
from domains.document.ports import BlobStore, Clock
from domains.document.service import DocumentCommands, Expiry
from domains.document.store import KernelDocumentStore
from domains.jobs.service import JobCommands
from domains.kernel.crud import EntityService
from domains.kernel.entity import Registry
from domains.kernel.errors import Unauthenticated, Unavailable
from domains.kernel.events import EventHandler
from domains.kernel.principal import Principal, Role
from domains.kernel.query import PageLimits
from domains.user.model import User
from domains.webhook.service import WebhookCommands
from domains.workflow.events import DOCUMENT_EVENT_TYPES, WORKFLOW_EVENT_TYPES
from domains.workflow.service import WorkflowService, WorkflowUseCases
from schema.context import Context
from schema.root import build_schema

HandlerBuilder = Callable[[dict[str, EntityService[Any]], dict[str, Any]], EventHandler]
"""Makes an event handler for one request from its entity services and use cases."""

WEBHOOK_EVENT_TYPES = frozenset({*DOCUMENT_EVENTS, *WORKFLOW_EVENT_TYPES})
"""The event types a webhook endpoint may subscribe to: every published one."""

# Seeding and the CLI act as the system, not as a person.
SYSTEM = Principal(user_id=uuid.UUID(int=0), company_id=uuid.UUID(int=0), roles=frozenset({Role.ADMIN}))


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def build_blob_store(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        # Imported here: aioboto3/boto3/botocore (and aiohttp under them) cost about a third of
        # the app's imports, and a process on the local store never needs them (cold start).
        from adapters.blobs.s3 import S3BlobStore, S3Settings

        return S3BlobStore(
            S3Settings(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.aws_region,
                access_key_id=settings.aws_access_key_id,
                secret_access_key=settings.aws_secret_access_key,
            )
        )
    return LocalBlobStore(
        settings.data_dir / "blobs",
        settings.blob_base_url,
        settings.blob_signing_secret,
        max_concurrent_uploads=settings.max_concurrent_uploads,
    )


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
    events: OutboxFeed = field(init=False)
    principals: StoredPrincipals = field(init=False)
    """Who each subscriber is now: what a socket's events are checked against."""
    socket_limits: SocketLimits = field(init=False)
    clock: Clock = field(init=False)
    """The system clock in production; elsewhere it moves with `python -m app clock advance`."""

    def __post_init__(self) -> None:
        self.events = build_event_feed(self.settings, self.engine)
        self.clock = SystemClock() if self.settings.production else StoredClock(self.events.dsn)
        self.principals = StoredPrincipals(self.stored_principal, self.settings.socket_recheck_seconds)
        self.socket_limits = SocketLimits(
            per_address=self.settings.sockets_per_address,
            per_user=self.settings.sockets_per_user,
            operations_per_user=self.settings.socket_operations_per_user,
        )
        wire_workflows(self)

    @classmethod
    def build(cls, settings: Settings, database_url: str) -> Container:
        registry = build_registry()
        return cls(
            settings=settings,
            registry=registry,
            tables=build_tables(registry),
            engine=create_engine(database_url, pool_size=settings.database_pool_size),
            verifier=verifier(settings),
            schema=build_schema(
                registry,
                introspection=settings.introspection_enabled,
                max_mutations=settings.max_mutations_per_operation,
            ),
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
                KernelDocumentStore(services["Document"]), SqlDocumentFiles(db), self.blobs, self.clock, db, expiry
            ),
            "webhook": WebhookCommands(SqlWebhookStore(db), WEBHOOK_EVENT_TYPES),
            "jobs": JobCommands(SqlJobQueue(db)),
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
        claimed, error = self.claimed_principal(authorization)
        if claimed is None:
            return None, error
        users = (services or self.services(RequestDatabase(self.engine)))["User"]
        (user,) = await users.get_many(SYSTEM, [claimed.user_id])
        if user is None:
            return None, "the user of this token is unknown (deleted, or from another database): get a new token"
        return user, None

    async def stored_principal(self, user_id: uuid.UUID) -> Principal | None:
        """The principal of the stored user now, None when deleted: one primary-key look-up."""
        (user,) = await self.services(RequestDatabase(self.engine))["User"].get_many(SYSTEM, [user_id])
        return _principal(user) if user is not None else None

    def claimed_principal(self, authorization: str | None) -> tuple[Principal | None, str | None]:
        """Who a well-signed, unexpired token CLAIMS to be, or why it cannot be used; no database.

        Claims are not to be trusted beyond the user id: ``signed_in_user`` (or, on the
        compiled read path, ``adapters.sql.compiled.stored_user_matches``) decides against
        the stored user."""
        if not authorization:
            return None, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "the Authorization header must be 'Bearer <token>'"
        try:
            return self.verifier.verify(token.strip()), None
        except Unauthenticated as error:
            return None, error.message

    async def context(self, request_id: str, authorization: str | None, state: dict[str, Any]) -> Context:
        """A request's context: its unit of work, and the stored user its token speaks for."""
        db = RequestDatabase(self.engine)
        services = self.services(db)
        auth_failure: Unavailable | None = None
        try:
            user, auth_error = await self.signed_in_user(authorization, services)
        except Unavailable as error:  # answered as SERVICE_UNAVAILABLE, not as a fault
            user, auth_error, auth_failure = None, None, error
        # The row just read is the one `me` asks for: the request's first operation starts
        # with it in its loader instead of reading it again (see OperationScope).
        state["viewer_record"] = user
        context = self.context_for(db, services, request_id, _principal(user) if user is not None else None, state)
        context.auth_error, context.auth_failure = auth_error, auth_failure
        return context

    def context_for(
        self,
        db: RequestDatabase,
        services: dict[str, EntityService[Any]],
        request_id: str,
        principal: Principal | None,
        state: dict[str, Any],
    ) -> Context:
        """A context on ``db`` for a principal already known: use cases and event handlers on
        that unit of work."""
        use_cases = {**self.use_cases(db, services), **workflow_use_cases(self, db, services)}
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
            development=not self.settings.production,
            request_state=state,
        )

    def operation_context(self, request_id: str, principal: Principal | None) -> Context:
        """A context of its own for a principal already known (the system, tests)."""
        db = RequestDatabase(self.engine)
        return self.context_for(db, self.services(db), request_id, principal, {})


def _principal(user: User) -> Principal:
    """Who is asking, from the stored row: never from a token's claims."""
    return Principal(user_id=user.id, company_id=user.company_id, roles=frozenset({user.role}), email=user.email)


# ---- workflows: commands, the reaction to document reviews, the live feed --------------


def build_event_feed(settings: Settings, engine: AsyncEngine) -> OutboxFeed:
    """The process's one listening connection (started and stopped with the app)."""
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return OutboxFeed(dsn, retention=timedelta(hours=settings.event_retention_hours))


class DocumentsFromService:
    """``domains.workflow.ports.DocumentRequests`` through the generic Document service."""

    def __init__(self, documents: EntityService[Any]) -> None:
        self.documents = documents

    async def request(
        self,
        principal: Principal,
        *,
        company_id: uuid.UUID,
        owner_id: uuid.UUID,
        kind: str,
        title: str,
        due_on: date,
    ) -> uuid.UUID:
        data = {"company_id": company_id, "owner_id": owner_id, "kind": DocumentKind(kind), "title": title}
        document = await self.documents.create(principal, {**data, "due_on": due_on})
        return uuid.UUID(str(document.id))


class PeopleFromService:
    """``domains.workflow.ports.People`` through the generic User service."""

    def __init__(self, users: EntityService[Any]) -> None:
        self.users = users

    async def company_of(self, principal: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        user = await self.users.get(principal, user_id)
        return None if user is None else uuid.UUID(str(user.company_id))


def workflow_service(
    container: Container, db: RequestDatabase, services: dict[str, EntityService[Any]]
) -> WorkflowService:
    store = SqlEntityStore(db, container.registry, container.tables)
    return WorkflowService(store, PeopleFromService(services["User"]), DocumentsFromService(services["Document"]), db)


def workflow_use_cases(
    container: Container, db: RequestDatabase, services: dict[str, EntityService[Any]]
) -> dict[str, Any]:
    """The operation's workflow commands, and the process's event feed for its subscriptions."""
    return {"workflow": WorkflowUseCases(workflow_service(container, db, services), container.events)}


def wire_workflows(container: Container) -> None:
    """Document reviews move workflow steps, in the review's transaction (by the events'
    published shape: the workflow context never imports the document context)."""
    for event_type in DOCUMENT_EVENT_TYPES:
        container.on(event_type, lambda _services, use_cases: use_cases["workflow"].commands.on_document_event)

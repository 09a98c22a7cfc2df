"""Builds the parts once per process, and a request's services once per request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth.sign_in import SignIn, Users, principal_of
from adapters.auth.tokens import TokenVerifier
from adapters.blobs.crypto import MasterKeys
from adapters.blobs.erasure import file_eraser
from adapters.blobs.export import ArchiveFiles
from adapters.blobs.local import LocalBlobStore
from adapters.events.feed import OutboxFeed
from adapters.jobs.clock import StoredClock
from adapters.sql.audit import SqlAuditEntries, SqlAuditLog
from adapters.sql.database import RequestDatabase, create_engine
from adapters.sql.documents import SqlDocumentFiles
from adapters.sql.job_queue import SqlJobQueue
from adapters.sql.notifications import SqlFollowUpStore, SqlNotificationStore
from adapters.sql.outbox import SqlOutbox
from adapters.sql.privacy import SqlPersonalData, SqlRetention
from adapters.sql.rls import APP_ROLE, NOBODY, DatabaseScope
from adapters.sql.store import SqlEntityStore
from adapters.sql.tables import build_tables
from adapters.sql.webhooks import SqlWebhookStore
from app.reactions import WEBHOOK_EVENT_TYPES, DocumentsFromService, PeopleFromService, build_bus
from app.settings import Settings
from app.socket_limits import SocketLimits
from app.socket_rights import StoredPrincipals
from app.tokens import verifier
from domains.audit.service import AuditTrail
from domains.catalog import BUILT_FROM_KERNEL, Commands, build_registry
from domains.document.model import KIND_RULES, UPLOAD_PREFIX
from domains.document.ports import BlobStore, Clock
from domains.document.service import DocumentCommands, Expiry
from domains.document.store import KernelDocumentStore
from domains.jobs.service import JobCommands
from domains.kernel.audit import AuditOrigin
from domains.kernel.bus import MessageBus
from domains.kernel.crud import EntityService
from domains.kernel.entity import Registry
from domains.kernel.errors import Unavailable
from domains.kernel.operation import KernelPorts
from domains.kernel.principal import Principal
from domains.kernel.query import PageLimits
from domains.kernel.unit_of_work import UnitOfWork
from domains.notification.follow_ups import FollowUpCommands, FollowUpSettings
from domains.notification.inbox import NotificationCommands
from domains.privacy.exports import ExportCommands, ExportSettings
from domains.privacy.retention import RetentionCommands
from domains.privacy.service import PrivacyCommands
from domains.privacy.store import KernelErasureStore, KernelExportStore
from domains.webhook.service import WebhookCommands
from domains.workflow.service import WorkflowCommands
from domains.workflow.store import KernelWorkflowStore
from schema.context import Context
from schema.root import build_schema

OWNER_POOL_SIZE = 2
"""The owner's pool (at most twice this many connections) beside the requests' one."""


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
                kms_key_id=settings.s3_kms_key_id,
            )
        )
    return LocalBlobStore(
        settings.data_dir / "blobs",
        settings.blob_base_url,
        settings.blob_signing_secret,
        max_concurrent_uploads=settings.max_concurrent_uploads,
        keys=master_keys(settings),
    )


def master_keys(settings: Settings) -> MasterKeys:
    """``BLOB_ENCRYPTION_KEYS``; outside production (which requires it) the data folder's keyring."""
    if settings.blob_encryption_keys:
        return MasterKeys.parse(settings.blob_encryption_keys)
    if settings.production:
        return MasterKeys.none("production with the local blob store needs BLOB_ENCRYPTION_KEYS")
    return MasterKeys.development(settings.data_dir)


@dataclass
class Container:
    settings: Settings
    registry: Registry
    tables: dict[str, sa.Table]
    engine: AsyncEngine
    """The owner's pool: migrations, the seed, the worker, the CLI, health, the demo sign-in."""
    verifier: TokenVerifier
    schema: strawberry.Schema
    limits: PageLimits
    blobs: BlobStore
    app_engine: AsyncEngine
    """The requests' pool: its connections run as ``APP_ROLE``, under row-level security
    (the owner's pool itself when ``ROW_LEVEL_SECURITY`` is off)."""
    bus: MessageBus[Commands] = field(init=False)
    """Which handlers each event goes to (``app/reactions.py``), the same for every operation."""
    events: OutboxFeed = field(init=False)
    principals: StoredPrincipals = field(init=False)
    """Who each subscriber is now: what a socket's events are checked against."""
    socket_limits: SocketLimits = field(init=False)
    clock: Clock = field(init=False)
    """The system clock in production; elsewhere it moves with `python -m app clock advance`."""
    auth: SignIn = field(init=False)
    """The authentication policy (``adapters/auth/sign_in.py``): the stored user decides."""

    def __post_init__(self) -> None:
        self.bus = build_bus()
        self.auth = SignIn(self.verifier, self._users_signing_in)
        self.events = build_event_feed(self.settings, self.engine)
        self.clock = SystemClock() if self.settings.production else StoredClock(self.events.dsn)
        self.principals = StoredPrincipals(self.auth.stored_principal, self.settings.socket_recheck_seconds)
        self.socket_limits = SocketLimits(
            per_address=self.settings.sockets_per_address,
            per_user=self.settings.sockets_per_user,
            operations_per_user=self.settings.socket_operations_per_user,
            fanout_concurrency=self.settings.fanout_concurrency,
        )

    @classmethod
    def build(cls, settings: Settings, database_url: str) -> Container:
        registry = build_registry()
        # With row-level security the requests have a pool of their own; the owner's then
        # serves the few things done as the owner (seed, CLI, the demo sign-in), one at a time,
        # and stays small: the server's connections are shared by every instance.
        owner_pool = OWNER_POOL_SIZE if settings.row_level_security else settings.database_pool_size
        engine = create_engine(
            database_url, pool_size=owner_pool, transaction_pooler=settings.database_transaction_pooler
        )
        return cls(
            settings=settings,
            registry=registry,
            tables=build_tables(registry),
            engine=engine,
            app_engine=(
                create_engine(
                    database_url,
                    pool_size=settings.database_pool_size,
                    role=APP_ROLE,
                    transaction_pooler=settings.database_transaction_pooler,
                )
                if settings.row_level_security
                else engine
            ),
            verifier=verifier(settings),
            schema=build_schema(
                registry,
                introspection=settings.introspection_enabled,
                max_mutations=settings.max_mutations_per_operation,
            ),
            limits=PageLimits(default=settings.page_default, maximum=settings.page_max),
            blobs=build_blob_store(settings),
        )

    def _users_signing_in(self, user_id: uuid.UUID) -> Users:
        """A User service on a handle of its own that may read this user's row (a socket's
        re-check of who its subscriber is now)."""
        return self.services(self.request_database(DatabaseScope.signing_in(user_id)))["User"]

    def request_database(self, scope: DatabaseScope) -> RequestDatabase:
        """A request's database handle: under row-level security as ``scope``, unless it is off."""
        if self.settings.row_level_security:
            return RequestDatabase(self.app_engine, scope)
        return RequestDatabase(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.app_engine is not self.engine:
            await self.app_engine.dispose()

    def services(self, db: RequestDatabase) -> dict[str, EntityService[Any]]:
        """The entity services of an operation on ``db`` (to write, use ``operation(db)`` and
        its unit of work's transaction)."""
        return self.operation(db).services

    def operation(self, db: RequestDatabase) -> Operation:
        """One operation's unit of work on ``db``, and its services and commands on it."""
        uow: UnitOfWork[Commands] = UnitOfWork(db, SqlOutbox(db), self.bus, SqlAuditLog(db))
        store = SqlEntityStore(db, self.registry, self.tables, saved=uow.saved, changed=uow.changed)
        services = {spec.name: EntityService(spec, store, self.registry, uow, self.limits) for spec in self.registry}
        expiry = Expiry(
            upload=timedelta(seconds=self.settings.upload_expiry_seconds),
            download=timedelta(seconds=self.settings.download_expiry_seconds),
        )
        kernel = KernelPorts(services, store, uow)
        commands = Commands(
            document=DocumentCommands(
                KernelDocumentStore(services["Document"]),
                SqlDocumentFiles(db),
                self.blobs,
                self.clock,
                uow,
                expiry,
                audit=uow,
            ),
            workflow=WorkflowCommands(
                KernelWorkflowStore(store),
                PeopleFromService(services["User"]),
                DocumentsFromService(services["Document"]),
                uow,
                limits=self.limits,
            ),
            webhook=WebhookCommands(SqlWebhookStore(db), WEBHOOK_EVENT_TYPES, uow, audit=uow),
            jobs=JobCommands(SqlJobQueue(db), uow, audit=uow),
            **{name: build(kernel) for name, build in BUILT_FROM_KERNEL.items()},
            notification=NotificationCommands(SqlNotificationStore(db), uow),
            follow_up=FollowUpCommands(
                SqlFollowUpStore(db),
                FollowUpSettings(
                    tuple(sorted(set(self.settings.reminder_days_before), reverse=True)),
                    self.settings.escalate_after_days,
                ),
                uow,
            ),
            audit=AuditTrail(SqlAuditEntries(db)),
            privacy=PrivacyCommands(
                KernelErasureStore(store),
                SqlPersonalData(db),
                file_eraser(self.blobs),
                self.clock,
                uow,
                keep_kinds=self.settings.erasure_keep_kinds,
            ),
            export=ExportCommands(
                KernelExportStore(store),
                SqlPersonalData(db),
                SqlPersonalData(db),
                ArchiveFiles(self.blobs),
                self.clock,
                uow,
                audit=uow,
                settings=ExportSettings(link_lifetime=timedelta(seconds=self.settings.export_link_seconds)),
            ),
            retention=RetentionCommands(
                SqlRetention(db),
                file_eraser(self.blobs),
                self.clock,
                uow,
                audit=uow,
                periods={k.value: r.retention for k, r in KIND_RULES.items() if r.retention is not None},
                sweep_after=timedelta(days=self.settings.sweep_after_days),
                upload_prefix=UPLOAD_PREFIX,
            ),
        )
        uow.serve(commands)
        return Operation(uow, services, commands)

    async def context(self, request_id: str, authorization: str | None, state: dict[str, Any]) -> Context:
        """A request's context: its unit of work, and the stored user its token speaks for."""
        db = self.request_database(NOBODY)
        operation = self.operation(db)
        auth_failure: Unavailable | None = None
        try:
            user, auth_error = await self.auth.user(authorization, operation.services["User"], caller=db)
        except Unavailable as error:  # answered as SERVICE_UNAVAILABLE, not as a fault
            user, auth_error, auth_failure = None, None, error
        # The row just read is the one `me` asks for: the request's first operation starts
        # with it in its loader instead of reading it again (see OperationScope).
        state["viewer_record"] = user
        principal = principal_of(user) if user is not None else None
        operation.uow.origin = AuditOrigin.of(principal, request_id, state.get("client_address"))
        context = self.context_for(db, operation, request_id, principal, state)
        context.auth_error, context.auth_failure = auth_error, auth_failure
        return context

    def context_for(
        self,
        db: RequestDatabase,
        operation: Operation,
        request_id: str,
        principal: Principal | None,
        state: dict[str, Any],
    ) -> Context:
        return Context(
            services=operation.services,
            commands=operation.commands,
            feed=self.events,
            notification_feed=self.events,
            sql=db,
            request_id=request_id,
            principal=principal,
            development=not self.settings.production,
            request_state=state,
        )

    def operation_context(self, request_id: str, principal: Principal | None) -> Context:
        """A context of its own for a principal already known (the system, tests)."""
        db = self.request_database(DatabaseScope.of(principal) if principal is not None else NOBODY)
        operation = self.operation(db)
        operation.uow.origin = AuditOrigin.of(principal, request_id, None)
        return self.context_for(db, operation, request_id, principal, {})


@dataclass(frozen=True)
class Operation:
    uow: UnitOfWork[Commands]
    services: dict[str, EntityService[Any]]
    commands: Commands


def build_event_feed(settings: Settings, engine: AsyncEngine) -> OutboxFeed:
    """The process's one listening connection (started and stopped with the app): direct to
    PostgreSQL (DATABASE_LISTEN_URL) when DATABASE_URL is a transaction pooler."""
    url = sa.engine.make_url(settings.database_listen_url) if settings.database_listen_url else engine.url
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return OutboxFeed(dsn, retention=timedelta(hours=settings.event_retention_hours))

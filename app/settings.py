"""Settings from the environment (and a ``.env`` file), with development defaults."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = "jwt-secret"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MIN_SECRET_BYTES = 32  # HS256 with a shorter key is guessable (RFC 7518, section 3.2)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    data_dir: Path = ROOT / ".data"
    database_pool_size: int = 10
    database_transaction_pooler: bool = False
    """DATABASE_URL is PgBouncer in transaction pooling mode (or RDS Proxy): no statement
    outlives its round trip (``adapters.sql.database.TRANSACTION_POOLER_ARGS``)."""
    database_listen_url: str | None = None
    """A direct connection for the outbox feed's LISTEN (and its reads of the outbox) and the
    workers' queue, which a transaction pooler cannot carry; unset: DATABASE_URL."""

    jwt_secret: str | None = None
    jwks_url: str | None = None
    jwt_issuer: str = "hr-graph"
    jwt_audience: str = "hr-graph"
    token_max_age_seconds: int = 12 * 3600
    """A token older than this (by its ``iat``) is refused, whatever its ``exp``."""

    page_default: int = 20
    page_max: int = 100
    max_body_bytes: int = 1_000_000
    # Slow clients (app/slow_clients.py): the request line and headers must arrive within this
    # long (else 408, or a plain close when nothing came) and this size (else 431); the body
    # within its own deadline (else 408); an idle kept-alive connection closes after its own.
    http_header_timeout_seconds: float = 10.0
    http_max_header_bytes: int = 65_536
    http_body_timeout_seconds: float = 30.0
    http_keep_alive_seconds: int = 5
    max_mutations_per_operation: int = 10
    """Root mutation fields one operation may run (aliases and fragments counted)."""
    # Reads that select only generated fields answered by one SQL statement per root field.
    compiled_reads: bool = True
    row_level_security: bool = True
    """Requests run as the database role row-level security applies to (``adapters/sql/rls.py``);
    off, they run as the owner and only the application's scoping separates companies (the
    bench compares the two)."""
    erasure_keep_kinds: list[str] = ["TAX_FORM", "CONTRACT"]
    """Document kinds an erasure keeps (files and fields) because the law says so, JSON."""
    export_link_seconds: int = 3600
    """How long the download link of a person's data export (exportPersonData) is valid."""
    sweep_after_days: int = 30
    """Soft-deleted documents' files and abandoned upload tickets' objects are deleted from the
    blob store this long after the deletion or the ticket's expiry (the worker's retention scan)."""
    log_level: str = "INFO"
    trusted_documents: Literal["off", "log", "only"] = "off"
    """Documents outside the manifest of frontend/operations (app/trusted_documents.py): ``off``
    answers them, ``log`` answers and logs them, ``only`` refuses them (TRUSTED_DOCUMENT_REQUIRED).
    A known hash (``documentId`` or Apollo's ``persistedQuery``) is answered in every mode."""
    trusted_documents_file: Path = ROOT / "frontend" / "operations" / "trusted-documents.json"

    event_retention_hours: float = 24 * 7
    """How long the outbox keeps events; a subscription may resume within it."""
    shutdown_timeout_seconds: float = 10.0
    """On SIGTERM, open sockets are closed and the process exits within about this long."""
    socket_recheck_seconds: float = 5.0
    """A subscription's user is read again at most this often while events flow to it (every
    operation on a socket reads it anyway): how long a lost right can outlive its loss."""
    socket_init_timeout_seconds: float = 10.0
    """A socket that has not signed in (connection_init) by then is closed (4408)."""
    sockets_per_address: int = 100
    sockets_per_user: int = 50
    socket_operations_per_user: int = 200
    """Operations (subscriptions, mostly) running at once on one user's sockets, per process."""
    fanout_concurrency: int = 4
    """Subscription deliveries (an event's execution and sending) at once in the process; the
    other subscribers wait their turn, so an event fanned out to many cannot starve HTTP
    requests of the event loop or of database connections. Keep it below DATABASE_POOL_SIZE."""
    # Blobs: the local store under data_dir/blobs (served by the app at public_url) unless
    # S3_BUCKET is set; then S3 (AWS, or any S3 API at S3_ENDPOINT_URL).
    public_url: str | None = None
    """The local store's link base. Unset, ``serve`` uses the address it listens on (outside
    production; production names it as missing), so ``PORT=9000 make run`` links to 9000."""
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    blob_secret: str | None = None
    blob_encryption_keys: str | None = None
    """The local store's master keys, ``id:base64key[,id:base64key...]`` (32-byte keys), the
    first one wrapping new objects' keys; unset outside production: a keyring under DATA_DIR."""
    s3_kms_key_id: str | None = None
    """S3 uploads must ask for SSE-KMS with this key (else SSE-S3)."""
    upload_expiry_seconds: int = 600
    download_expiry_seconds: int = 300
    max_concurrent_uploads: int = 8
    """Files the local store receives at once per instance; past it an upload is answered 503."""
    # The web app's sign-in in production (app/web_app.py): the identity provider's authorization
    # endpoint, where the page sends a person to sign in (OAuth 2.0 implicit response, the token
    # back in the URL's fragment), and the client id registered there for the app's /app/ URL.
    oidc_authorize_url: str | None = None
    oidc_client_id: str | None = None
    oidc_scope: str = "openid email"
    # The job queue (procrastinate, on the app's database) and its workers: `python -m app
    # worker`, or one inside `serve --dev`.
    worker_concurrency: int = 4
    """Jobs one worker process runs at once."""
    worker_stalled_seconds: float = 30.0
    """A job whose worker has been silent (no heartbeat) this long is put back in the queue."""
    relay_poll_seconds: float = 1.0
    """The relay reads the outbox at each notification and at least this often."""
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 35
    """Attempts per delivery: retried after 2, 4, 8 ... seconds, then hourly: about a day in all."""
    webhook_retry_base_seconds: float = 2.0
    webhook_allow_loopback: bool = False
    """Deliver to loopback addresses too (development, tests); ignored in production."""
    webhook_disable_after_failures: int = 3
    """An endpoint whose last this many deliveries all ran out of attempts is disabled (HR is told)."""
    reminder_days_before: list[int] = [3, 0]
    """Days before a document's due date its owner is reminded (JSON: ``[3, 0]``; 0 is the day itself)."""
    reminder_scan_seconds: float = 60.0
    """How often a worker looks for reminders due (on the clock's day) and for documents expiring."""
    escalate_after_days: int = 3
    """A document overdue this many days escalates to its owner's manager, twice as many to HR
    (a company may set its own: ``updateFollowUpSettings``)."""
    expiry_reminder_days_before: list[int] = [30, 7]
    """Days before a document's expiry date its owner and HR are reminded (JSON: ``[30, 7]``)."""
    analyzer: Literal["embedded", "textract", "off"] = "embedded"
    """Who reads each uploaded file in the workers: ``embedded`` (offline OCR and classifier),
    ``textract`` (AWS Textract, with AWS_REGION and the AWS credentials), ``off``."""
    textract_endpoint_url: str | None = None
    """Another Textract endpoint (a VPC endpoint, a test server); unset: AWS's for AWS_REGION."""
    smtp_url: str | None = None
    """``smtp://user:pass@host:587`` or ``smtps://...``; unset: mails are ``.eml`` files under DATA_DIR/mail."""
    mail_from: str = "HR Graph <no-reply@hr-graph.invalid>"
    app_url: str | None = None
    """Where the web app is, for the links in mails (else PUBLIC_URL, else the default address)."""
    # GRAPHIQL, INTROSPECTION: unset means on outside production and off in production.
    graphiql: bool | None = None
    introspection: bool | None = None

    @field_validator("blob_encryption_keys")
    @classmethod
    def _master_keys(cls, value: str | None) -> str | None:
        """Refused at start-up, in one line, unless ``id:base64key`` pairs of 32-byte keys."""
        if not value:
            return None
        ids = set()
        for part in value.split(","):
            key_id, sep, encoded = part.strip().partition(":")
            try:
                size = len(base64.b64decode(encoded.encode(), validate=True))
            except ValueError:
                size = -1
            if not sep or not key_id or key_id in ids or size != 32:
                raise ValueError("id:base64key pairs, comma separated, each id once, each key 32 bytes")
            ids.add(key_id)
        return value

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return not self.production if self.introspection is None else self.introspection

    @property
    def local_blobs(self) -> bool:
        return not self.s3_bucket

    @property
    def blob_base_url(self) -> str:
        """Where the local store's links point: ``PUBLIC_URL``, set by ``serve`` to its own
        address when unset; code that serves nothing (tests' parts, a Lambda) gets the default."""
        return self.public_url or DEFAULT_PUBLIC_URL

    def missing_for_production(self, *, serving: bool = True) -> list[str]:
        """What production cannot start without (or refuses), as the operator would set it.

        Only what the command uses: migrating needs the database alone (``serving=False``)."""
        if not self.production:
            return []
        missing = [] if self.database_url else ["DATABASE_URL"]
        if not serving:
            return missing
        if not (self.jwks_url or self.jwt_secret):
            missing.append("JWKS_URL (or JWT_SECRET)")
        if self.jwt_secret and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            given = len(self.jwt_secret.encode())
            missing.append(f"JWT_SECRET of {MIN_SECRET_BYTES} bytes or more (this one has {given})")
        if self.local_blobs:
            if not self.public_url:
                missing.append("PUBLIC_URL (or S3_BUCKET)")
            if not (self.blob_secret or self.jwt_secret):
                missing.append("BLOB_SECRET (or JWT_SECRET, or S3_BUCKET)")
            if not self.blob_encryption_keys:
                missing.append("BLOB_ENCRYPTION_KEYS (or S3_BUCKET)")
        return missing

    @property
    def secret(self) -> str | None:
        """``JWT_SECRET``; else, outside production, this data folder's own random secret.

        A constant in the source would let anyone who read it sign tokens for any instance
        left on its defaults; one generated per data folder signs only that folder's tokens.
        """
        if self.jwt_secret or self.jwks_url:
            return self.jwt_secret
        if self.production:
            raise RuntimeError("production needs JWKS_URL or JWT_SECRET to verify tokens: set one of them")
        return development_secret(self.data_dir)

    @property
    def blob_signing_secret(self) -> bytes:
        """Signs the local store's upload and download links (the store derives its own key)."""
        secret = self.blob_secret or self.jwt_secret
        if secret:
            return secret.encode()
        if self.production:
            raise RuntimeError("production with the local blob store needs BLOB_SECRET (or JWT_SECRET)")
        return development_secret(self.data_dir).encode()


def development_secret(data_dir: Path) -> str:
    """The secret kept in ``data_dir``, made on first use. Safe against concurrent first uses
    (the server and ``python -m app token`` started together): the file appears whole, once."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")  # 384 bits, over HS256's minimum
        try:
            os.link(draft, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()

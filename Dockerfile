# HR Graph production image.
#
#   docker build -t hr-graph .
#   docker run --rm -e DATABASE_URL=... hr-graph python -m app migrate   # migrations: a one-off step, DATABASE_URL alone
#   docker run -p 8000:8000 -e DATABASE_URL=... -e JWKS_URL=... -e S3_BUCKET=... hr-graph   # the service
#
# The service does not migrate on start-up, so several instances can start at once.
# Graceful shutdown on SIGTERM (draining requests, closing subscriptions) is configured inside
# `python -m app serve`.
#
# Settings (environment variables; APP_ENV=production is set below):
#   required  DATABASE_URL          postgresql://user:pass@host:5432/db
#   required  JWKS_URL              the identity provider's JSON Web Key Set (RS256 tokens),
#             or JWT_SECRET         an HS256 secret of 32+ bytes (a shorter one is refused)
#   documents S3_BUCKET             documents in S3 (or any S3 API at S3_ENDPOINT_URL); or,
#             without S3_BUCKET, the local store under DATA_DIR (one instance only), which needs
#             PUBLIC_URL            the address clients reach this service at
#                                   (https://hr.example.com): the store's links start with it
#             BLOB_SECRET           signs those links (else JWT_SECRET)
#             BLOB_ENCRYPTION_KEYS  the master keys that wrap each file's AES-256-GCM key:
#                                   id:base64key[,id:base64key...], the first one current
#                                   (a 32-byte key: `openssl rand -base64 32`); rotate with
#                                   `python -m app keys rotate`
#   optional  JWT_ISSUER, JWT_AUDIENCE   expected `iss` / `aud` (default hr-graph)
#             TOKEN_MAX_AGE_SECONDS  tokens older than this by `iat` are refused, whatever `exp` (43200)
#             DATABASE_POOL_SIZE    sets the pool: at most twice this many connections (10)
#             WEB_CONCURRENCY       serving processes on the port (serve --workers), each its own pool (1)
#             DATABASE_TRANSACTION_POOLER   true when DATABASE_URL is PgBouncer in transaction
#                                   pooling mode or RDS Proxy: no statement outlives its round trip (false)
#             DATABASE_LISTEN_URL   a direct connection for the outbox feed's LISTEN and the
#                                   workers' queue, which a transaction pooler cannot carry (DATABASE_URL)
#             PAGE_DEFAULT, PAGE_MAX     page sizes (20, 100)
#             MAX_BODY_BYTES        the request body cap (1000000)
#             HTTP_HEADER_TIMEOUT_SECONDS, HTTP_MAX_HEADER_BYTES   a request's line and headers
#                                   must arrive within this long and size, else 408 / 431 (10, 65536)
#             HTTP_BODY_TIMEOUT_SECONDS  its body within this long, else 408 (30)
#             HTTP_KEEP_ALIVE_SECONDS    an idle kept-alive connection closes after this long (5)
#             MAX_MUTATIONS_PER_OPERATION   root mutation fields in one operation (10)
#             COMPILED_READS        false to answer every read through the resolvers (true)
#             TRUSTED_DOCUMENTS     documents outside frontend/operations' manifest: off (answered),
#                                   log (answered, logged), only (refused) (off)
#             TRUSTED_DOCUMENTS_FILE   that manifest (frontend/operations/trusted-documents.json)
#             ROW_LEVEL_SECURITY    false to run requests as the owner, without the database's wall (true)
#             ERASURE_KEEP_KINDS    document kinds an erasure keeps for the law, JSON (["TAX_FORM", "CONTRACT"])
#             EXPORT_LINK_SECONDS   lifetime of a person's data export's download link (3600)
#             SWEEP_AFTER_DAYS      deleted documents' files and abandoned uploads leave the store after (30)
#             S3_ENDPOINT_URL, AWS_REGION   an S3 API other than AWS's; the bucket's region
#             AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   S3 credentials (else the default chain)
#             S3_KMS_KEY_ID         uploads must ask for SSE-KMS with this key (else SSE-S3, AES256)
#             UPLOAD_EXPIRY_SECONDS, DOWNLOAD_EXPIRY_SECONDS   link lifetimes (600, 300)
#             MAX_CONCURRENT_UPLOADS     files the local store receives at once; more get 503 (8)
#             DATA_DIR              the local store's folder (/srv/app/.data)
#             EVENT_RETENTION_HOURS      how long workflow events stay replayable (168)
#             SHUTDOWN_TIMEOUT_SECONDS   SIGTERM to exit, subscriptions closed with 1012 (10)
#             SOCKET_RECHECK_SECONDS     a subscriber's stored user is read again at most this often (5)
#             SOCKET_INIT_TIMEOUT_SECONDS   a socket not signed in by then is closed (10)
#             SOCKETS_PER_ADDRESS, SOCKETS_PER_USER   open sockets per client address / user (100, 50)
#             SOCKET_OPERATIONS_PER_USER   subscriptions running at once per user (200)
#             OIDC_AUTHORIZE_URL, OIDC_CLIENT_ID   the web app's sign-in at /app/: the identity
#                                   provider's authorization endpoint and the app's client id there
#             OIDC_SCOPE            the scopes the web app asks for ("openid email")
#             FANOUT_CONCURRENCY    subscription deliveries (execution and send) at once per process (4)
#   jobs      (the same image runs workers: `python -m app worker`, as many as wanted)
#             WORKER_CONCURRENCY    jobs one worker runs at once (4)
#             WORKER_STALLED_SECONDS   a dead worker's jobs go back in the queue after this silence (30)
#             RELAY_POLL_SECONDS    the relay reads the outbox at each notification and this often (1)
#             WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_BASE_SECONDS   a delivery's
#                                   timeout and attempts, retried after 2, 4, 8 ... s, then hourly: a day (10, 35, 2)
#             WEBHOOK_ALLOW_LOOPBACK   loopback receivers (development only; ignored here)
#             WEBHOOK_DISABLE_AFTER_FAILURES   an endpoint whose last this many deliveries failed is disabled (3)
#             REMINDER_DAYS_BEFORE  days before a due date whoever must act (a document's owner, a step's assignee) is reminded, JSON ([3, 0]: and on the day)
#             REMINDER_SCAN_SECONDS  how often a worker looks for reminders due and documents expiring (60)
#             ESCALATE_AFTER_DAYS  days overdue before the manager (of the owner or the subject) is told; twice as many: HR (3)
#             EXPIRY_REMINDER_DAYS_BEFORE  days before an expiry date the owner and HR are reminded ([30, 7])
#             ANALYZER              who reads each uploaded file: embedded (offline OCR and classifier),
#                                   textract (AWS Textract, AWS_REGION and credentials) or off (embedded)
#             TEXTRACT_ENDPOINT_URL   another Textract endpoint (a VPC endpoint); unset: AWS's
#             SMTP_URL              smtp://user:pass@host:587 (or smtps://); unset: mails are .eml files in DATA_DIR/mail
#             MAIL_FROM             the mails' sender (HR Graph <no-reply@hr-graph.invalid>)
#             APP_URL               the web app's address, for links in mails (else PUBLIC_URL)
#             GRAPHIQL, INTROSPECTION    true to serve GraphiQL / answer introspection (off)
#             LOG_LEVEL             INFO
# Without a required one the container exits at once with one line naming what is missing;
# a database it cannot reach is one line too.

# ---- web: the HR web app's bundle (frontend/dist, served at /app/), built from the lock file ----
FROM node:20-slim AS web

WORKDIR /build
COPY schema.graphql graphql.config.yml ./
COPY frontend/package.json frontend/package-lock.json ./frontend/
RUN cd frontend && npm ci --no-audit --no-fund --loglevel=error
COPY frontend ./frontend
# codegen (typed operations from schema.graphql), tsc, then vite build into frontend/dist
RUN cd frontend && npm run build

# ---- builder: a venv with the runtime dependencies only, at the versions pinned in the lock ----
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build
COPY requirements.lock ./
# requirements.lock pins the runtime dependencies only (test and lint tools live in
# requirements-dev.lock). pgserver (the embedded PostgreSQL of a fresh clone) is left out:
# production has DATABASE_URL.
RUN python -m venv /opt/venv \
 && grep -v -e '^pgserver==' -e '^#' requirements.lock > runtime.txt \
 && /opt/venv/bin/python -m pip install -q -r runtime.txt

# ---- runtime ----
FROM python:3.11-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production

# OpenCV (the document analyzer's OCR, run by workers) loads libGL and GLib when imported;
# the slim image has neither.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /srv/app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /srv/app
COPY alembic.ini ./
COPY domains ./domains
COPY schema ./schema
COPY adapters ./adapters
COPY app ./app
COPY frontend/operations/trusted-documents.json ./frontend/operations/
COPY --from=web /build/frontend/dist ./frontend/dist
# Bytecode compiled at build time: with PYTHONDONTWRITEBYTECODE and a read-only tree, every
# start would otherwise compile the project's modules again (about a tenth of a cold start).
RUN python -m compileall -q domains schema adapters app \
 && mkdir -p /srv/app/.data && chown app:app /srv/app/.data

USER app
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8000"]

"""``python -m app serve | migrate | seed | token | worker | clock | export-schema | audit verify | keys rotate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app import logs
from app.database import check_reachable, migrate, resolve_url
from app.settings import ROOT, Settings
from app.startup import StartupError, require_settings

log = logging.getLogger("hrgraph")


def _database(settings: Settings, *, serving: bool = True) -> str:
    """The database URL, once the server behind it answered (else a one-line StartupError).
    A command checks only the settings it uses: ``serving=False`` needs the database alone."""
    require_settings(settings, serving=serving)
    url = resolve_url(settings)
    asyncio.run(check_reachable(url))
    return url


def _listen(host: str, port: int) -> socket.socket:
    """Binds the port before anything is announced, so a port in use is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be bound ({error.strerror})"
        raise StartupError(
            f"port {port} on {host} {reason}: stop the other server or choose another port"
            " (--port, or PORT=... make run)"
        ) from None
    return sock


def _reachable_at(host: str, port: int) -> str:
    """This server's own address for links: a wildcard host becomes the loopback one."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    listener = _listen(args.host, args.port)
    url = _database(settings)
    if settings.local_blobs and not settings.public_url:  # production refused this above
        settings = settings.model_copy(update={"public_url": _reachable_at(args.host, args.port)})

    if args.dev or not settings.production:
        migrate(url)
    if args.dev and not settings.production and asyncio.run(_seed_once(settings, url)):
        log.info("demo data loaded")
    workers = max(1, getattr(args, "workers", 1))
    if workers > 1:
        print(_banner(settings, f"http://{args.host}:{args.port}"), file=sys.stderr, flush=True)
        # Forked before any engine, loop or thread exists: each process builds its own parts
        # (pool, outbox listener) and accepts on the one socket bound above.
        children = _forked(workers, lambda: _serve_one(settings, url, listener, args, None))
        stop_worker = _dev_worker(settings, url) if args.dev and not settings.production else None
        try:
            return _supervise(children)
        finally:
            if stop_worker is not None:
                stop_worker()
    stop_worker = _dev_worker(settings, url) if args.dev and not settings.production else None
    print(_banner(settings, f"http://{args.host}:{args.port}"), file=sys.stderr, flush=True)
    return _serve_one(settings, url, listener, args, stop_worker)


def _forked(workers: int, serve: Callable[[], int]) -> list[int]:
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the child serves until told to stop, and never returns into the parent's code
            code = 1
            try:
                code = serve()
            except SystemExit as stop:  # SIGTERM, once drained (see _serve_one)
                code = stop.code if isinstance(stop.code, int) else 0
            except BaseException:
                log.exception("a serving process failed")
            finally:
                os._exit(code)
        children.append(pid)
    return children


def _supervise(children: list[int]) -> int:
    """Passes SIGTERM and SIGINT on to the serving processes; exits when they all have, with
    the first failure's status (a process that dies is not replaced: the orchestrator restarts)."""

    def forward(signum: int, _frame: Any) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for pid in children:
        _, code = os.waitpid(pid, 0)
        status = status or os.waitstatus_to_exitcode(code)
    return 0 if status < 0 else status  # stopped by a signal we passed on: a clean stop


def _serve_one(
    settings: Settings, url: str, listener: socket.socket, args: argparse.Namespace, stop_worker: Any
) -> int:
    import uvicorn

    from app.http import create_app
    from app.slow_clients import guarded_http_protocol
    from app.wiring import Container

    container = Container.build(settings, url)
    # uvicorn re-raises SIGTERM once it has drained; turning it into SystemExit lets the
    # embedded PostgreSQL (an atexit handler) stop with us instead of outliving the process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    config = uvicorn.Config(
        create_app(container),
        host=args.host,
        port=args.port,
        log_config=None,
        # open sockets get a 1012 close at once; operations still running get this long
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_seconds / 2)),
        proxy_headers=True,
        # Frames here are a few hundred bytes; compressing them kept zlib state per socket
        # (~40 KiB resident per subscriber in bench/fanout.py) and CPU per message.
        ws_per_message_deflate=False,
        # a message larger than an HTTP body may be is refused by uvicorn before it is read whole
        ws_max_size=settings.max_body_bytes,
        # uvicorn waits for a request's headers without a deadline: slow or silent clients are
        # cut off by this protocol; the body's deadline is the app's (RequestScope, 408).
        http=guarded_http_protocol(settings.http_header_timeout_seconds, settings.http_max_header_bytes),
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if stop_worker is not None:
            stop_worker()
    return 0


def _dev_worker(settings: Settings, url: str) -> Callable[[], None]:
    """``serve --dev`` works the job queue in-process, so a newcomer sees mails and webhooks."""
    from app.worker import start_in_thread

    return start_in_thread(settings, url)


def _banner(settings: Settings, base: str) -> str:
    """What this process offers: GraphiQL and development tokens only where they are served."""
    graphiql = " (GraphiQL in a browser)" if settings.graphiql_enabled else ""
    lines = [f"HR Graph is serving on {base}/graphql{graphiql}"]
    if not settings.database_url:
        lines.append(f"  database:  the embedded PostgreSQL in {settings.data_dir / 'pg'} (DATABASE_URL unset)")
    if settings.local_blobs:
        lines.append(f"  documents: upload and download links to {settings.blob_base_url} (PUBLIC_URL)")
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        web = "not built: make run builds it with Node.js 20+ and npm"
    elif settings.production:
        web = "sign-in through OIDC_AUTHORIZE_URL" if settings.oidc_authorize_url else "set OIDC_AUTHORIZE_URL"
    else:
        web = "sign in as a demo person"
    lines.append(f"  web app:   {base}/app/ ({web})")
    if settings.app_env == "development" and not settings.smtp_url:
        mails = settings.data_dir / "mail"
        lines.append(f"  mails:     written to {mails}, listed at {base}/dev/mail (SMTP_URL unset)")
    if settings.app_env == "development":
        lines.append("  a token:   .venv/bin/python -m app token --email hr@acme.example")
        lines.append("  then send: Authorization: Bearer <token>")
    return "\n" + "\n".join(lines) + "\n"


async def _seed_once(settings: Settings, url: str) -> bool:
    from app.seed import seed_demo
    from app.wiring import Container

    container = Container.build(settings, url)
    try:
        return await seed_demo(container)
    finally:
        await container.dispose()


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    migrate(_database(settings, serving=False))
    print("migrations applied", file=sys.stderr)
    return 0


def _seed(settings: Settings, _: argparse.Namespace) -> int:
    if settings.production:
        print("refusing to load demo data in production", file=sys.stderr)
        return 2
    url = _database(settings)
    migrate(url)
    loaded = asyncio.run(_seed_once(settings, url))
    print("demo data loaded" if loaded else "database not empty: nothing loaded", file=sys.stderr)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from app.tokens import people_with_email, verifier

    if settings.app_env != "development":
        print(f"refusing: development tokens only (APP_ENV is {settings.app_env})", file=sys.stderr)
        return 2
    require_settings(settings)
    # An email is unique within a company only: --company (its slug or name) picks the person.
    found = asyncio.run(people_with_email(resolve_url(settings), args.email, args.company))
    if not found:
        where = f" at {args.company!r}" if args.company else ""
        print(f"no user with email {args.email!r}{where} (try hr@acme.example)", file=sys.stderr)
        return 1
    if len(found) > 1:
        slugs = ", ".join(sorted(holder.company_slug for holder in found))
        print(
            f"{args.email!r} belongs to people at {len(found)} companies ({slugs}): pass --company with one of them",
            file=sys.stderr,
        )
        return 1
    print(verifier(settings).issue(found[0].principal))
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from app.worker import run_worker

    url = _database(settings, serving=False)
    if not settings.production:
        migrate(url)
    print(f"HR Graph worker {args.name} is working the job queue", file=sys.stderr, flush=True)
    asyncio.run(run_worker(settings, url, name=args.name))
    return 0


def _clock(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.jobs import clock
    from app.database import driver_dsn
    from app.worker import parse_duration

    if settings.production:
        print("refusing: production runs on the system clock", file=sys.stderr)
        return 2
    dsn = driver_dsn(_database(settings, serving=False))
    if args.action == "advance":
        try:
            by = parse_duration(args.duration or "")
        except ValueError as error:
            print(f"hr-graph: {error}", file=sys.stderr)
            return 2
        offset = clock.advance(dsn, by)
    elif args.action == "reset":
        clock.reset(dsn)
        offset = clock.read_offset(dsn)
    else:
        offset = clock.read_offset(dsn)
    print(f"clock: system time + {offset} ({(clock.SystemClock().now() + offset).isoformat(timespec='seconds')})")
    return 0


def _export_schema(_: Settings, args: argparse.Namespace) -> int:
    from domains.catalog import build_registry
    from schema.root import build_schema

    sdl = str(build_schema(build_registry())) + "\n"
    Path(args.output).write_text(sdl)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from app.audit_cli import report, verify_trail

    return report(asyncio.run(verify_trail(_database(settings, serving=False))))


def _keys(settings: Settings, _: argparse.Namespace) -> int:
    from app.keys_cli import rotate

    return rotate(settings)


def _invalid_settings(error: ValueError) -> str:
    """Each setting that does not parse with what it accepts (never the value: it may be a secret)."""
    from pydantic import ValidationError

    problems = error.errors() if isinstance(error, ValidationError) else []
    if not problems:
        return f"invalid setting: {error}"
    described = []
    for problem in problems:
        expected = str(problem.get("msg", "")).removeprefix("Value error, ")
        expected = expected.replace("Input should be", "expected", 1)
        name = str(problem["loc"][0]).upper()
        described.append(f"{name} ({expected})" if expected else name)
    return f"invalid setting{'s' if len(described) > 1 else ''} {', '.join(described)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="HR Graph")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dev", action="store_true", help="migrate and load demo data first")
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="serving processes on the one port (default: WEB_CONCURRENCY, else 1)",
    )
    commands.add_parser("migrate", help="apply pending migrations")
    commands.add_parser("seed", help="load the demo data into an empty database")
    token = commands.add_parser("token", help="print a development token for a seeded user")
    token.add_argument("--email", required=True)
    token.add_argument("--company", help="the company's slug or name, when the email is used at several")
    worker = commands.add_parser("worker", help="work the job queue: webhooks, mails (any number of them)")
    worker.add_argument("--name", default="worker", help="the worker's name in logs and in the jobs' records")
    moved = commands.add_parser("clock", help="show, advance or reset the clock of servers and workers")
    moved.add_argument("action", choices=["show", "advance", "reset"])
    moved.add_argument("duration", nargs="?", help="for advance: 90s, 15m, 2h, 8d, 1w")
    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument("--output", default=str(ROOT / "schema.graphql"))
    audit = commands.add_parser("audit", help="verify the audit trail's hash chain")
    audit.add_argument("action", choices=["verify"])
    keys = commands.add_parser("keys", help="re-wrap the local blob store's object keys under a new master key")
    keys.add_argument("action", choices=["rotate"])
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValueError as error:  # pydantic's ValidationError: a setting that does not parse
        print(f"hr-graph: {_invalid_settings(error)}: fix the environment or .env", file=sys.stderr)
        return 1
    logs.configure(settings.log_level)
    handlers = {
        "serve": _serve,
        "migrate": _migrate,
        "seed": _seed,
        "token": _token,
        "export-schema": _export_schema,
        "worker": _worker,
        "clock": _clock,
        "audit": _audit,
        "keys": _keys,
    }
    try:
        return handlers[args.command](settings, args)
    except StartupError as error:
        print(f"hr-graph: {error}", file=sys.stderr, flush=True)
        return 1

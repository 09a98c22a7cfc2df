"""``python -m app serve | migrate | seed | token | export-schema``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import socket
import sys
from pathlib import Path

from app import logs
from app.database import check_reachable, migrate, resolve_url
from app.settings import ROOT, Settings
from app.startup import StartupError, require_settings

log = logging.getLogger("hrgraph")


def _database(settings: Settings) -> str:
    """The database URL, once the server behind it answered (else a one-line StartupError)."""
    require_settings(settings)
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


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    listener = _listen(args.host, args.port)
    url = _database(settings)

    import uvicorn

    from app.http import create_app
    from app.slow_clients import guarded_http_protocol
    from app.wiring import Container

    if args.dev or not settings.production:
        migrate(url)
    if args.dev and not settings.production and asyncio.run(_seed_once(settings, url)):
        log.info("demo data loaded")
    container = Container.build(settings, url)
    base = f"http://{args.host}:{args.port}"
    print(
        f"\nHR Graph is serving on {base}/graphql (GraphiQL in a browser)\n"
        f"  a token:   .venv/bin/python -m app token --email hr@acme.example\n"
        f"  then send: Authorization: Bearer <token>\n",
        file=sys.stderr,
        flush=True,
    )
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
        # uvicorn waits for a request's headers without a deadline: slow or silent clients are
        # cut off by this protocol; the body's deadline is the app's (RequestScope, 408).
        http=guarded_http_protocol(settings.http_header_timeout_seconds, settings.http_max_header_bytes),
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


async def _seed_once(settings: Settings, url: str) -> bool:
    from app.seed import seed_demo
    from app.wiring import Container

    container = Container.build(settings, url)
    try:
        return await seed_demo(container)
    finally:
        await container.engine.dispose()


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    migrate(_database(settings))
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
    from app.wiring import SYSTEM, Container
    from domains.kernel.principal import Principal
    from domains.kernel.query import AnyOf, Condition, Op, Related, all_of

    if settings.app_env != "development":
        print(f"refusing: development tokens only (APP_ENV is {settings.app_env})", file=sys.stderr)
        return 2
    container = Container.build(settings, _database(settings))
    email = args.email.strip().lower()
    # An email is unique within a company only: --company (its slug or name) picks the person.
    company = None
    if args.company:
        wanted = args.company.strip()
        company = Related(
            "company", AnyOf((Condition("slug", Op.EQ, wanted.lower()), Condition("name", Op.EQ, wanted)))
        )

    async def find() -> list[tuple[Principal, str]]:
        from adapters.sql.database import RequestDatabase

        try:
            services = container.services(RequestDatabase(container.engine))
            page = await services["User"].list(SYSTEM, all_of(Condition("email", Op.EQ, email), company))
            companies = await services["Company"].get_many(SYSTEM, [u.company_id for u in page.items])
        finally:
            await container.engine.dispose()
        return [
            (Principal(u.id, u.company_id, frozenset({u.role}), u.email), c.slug if c else str(u.company_id))
            for u, c in zip(page.items, companies, strict=True)
        ]

    found = asyncio.run(find())
    if not found:
        where = f" at {args.company!r}" if args.company else ""
        print(f"no user with email {args.email!r}{where} (try hr@acme.example)", file=sys.stderr)
        return 1
    if len(found) > 1:
        slugs = ", ".join(sorted(slug for _, slug in found))
        print(
            f"{args.email!r} belongs to people at {len(found)} companies ({slugs}): "
            f"pass --company with one of them",
            file=sys.stderr,
        )
        return 1
    print(container.verifier.issue(found[0][0]))
    return 0


def _export_schema(_: Settings, args: argparse.Namespace) -> int:
    from domains.catalog import build_registry
    from schema.root import build_schema

    sdl = str(build_schema(build_registry())) + "\n"
    Path(args.output).write_text(sdl)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="HR Graph")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dev", action="store_true", help="migrate and load demo data first")
    commands.add_parser("migrate", help="apply pending migrations")
    commands.add_parser("seed", help="load the demo data into an empty database")
    token = commands.add_parser("token", help="print a development token for a seeded user")
    token.add_argument("--email", required=True)
    token.add_argument("--company", help="the company's slug or name, when the email is used at several")
    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument("--output", default=str(ROOT / "schema.graphql"))
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValueError as error:  # pydantic's ValidationError: a setting that does not parse
        fields = ", ".join(str(e["loc"][0]).upper() for e in getattr(error, "errors", list)())
        print(f"hr-graph: invalid setting {fields or error}: fix the environment or .env", file=sys.stderr)
        return 1
    logs.configure(settings.log_level)
    handlers = {
        "serve": _serve,
        "migrate": _migrate,
        "seed": _seed,
        "token": _token,
        "export-schema": _export_schema,
    }
    try:
        return handlers[args.command](settings, args)
    except StartupError as error:
        print(f"hr-graph: {error}", file=sys.stderr, flush=True)
        return 1

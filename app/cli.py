"""``python -m app serve | migrate | seed | token | export-schema``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from app import logs
from app.database import migrate, resolve_url
from app.settings import ROOT, Settings

log = logging.getLogger("hrgraph")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.http import create_app
    from app.wiring import Container

    url = resolve_url(settings)
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
    uvicorn.run(
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
    )
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
    migrate(resolve_url(settings))
    print("migrations applied", file=sys.stderr)
    return 0


def _seed(settings: Settings, _: argparse.Namespace) -> int:
    if settings.production:
        print("refusing to load demo data in production", file=sys.stderr)
        return 2
    url = resolve_url(settings)
    migrate(url)
    loaded = asyncio.run(_seed_once(settings, url))
    print("demo data loaded" if loaded else "database not empty: nothing loaded", file=sys.stderr)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from app.wiring import SYSTEM, Container
    from domains.kernel.principal import Principal
    from domains.kernel.query import Condition, Op

    if settings.app_env != "development":
        print(f"refusing: development tokens only (APP_ENV is {settings.app_env})", file=sys.stderr)
        return 2
    container = Container.build(settings, resolve_url(settings))

    async def find() -> Principal | None:
        from adapters.sql.database import RequestDatabase

        try:
            users = container.services(RequestDatabase(container.engine))["User"]
            page = await users.list(SYSTEM, Condition("email", Op.EQ, args.email.strip().lower()))
        finally:
            await container.engine.dispose()
        if not page.items:
            return None
        user = page.items[0]
        return Principal(user.id, user.company_id, frozenset({user.role}), user.email)

    principal = asyncio.run(find())
    if principal is None:
        print(f"no user with email {args.email!r} (try hr@acme.example)", file=sys.stderr)
        return 1
    print(container.verifier.issue(principal))
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
    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument("--output", default=str(ROOT / "schema.graphql"))
    args = parser.parse_args(argv)

    settings = Settings()
    logs.configure(settings.log_level)
    handlers = {
        "serve": _serve,
        "migrate": _migrate,
        "seed": _seed,
        "token": _token,
        "export-schema": _export_schema,
    }
    return handlers[args.command](settings, args)

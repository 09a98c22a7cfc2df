"""AWS Lambda entry: API Gateway HTTP API (payload v2) events served by the same ASGI app.

Handler setting: ``app.lambda_handler.handler``. Settings come from the function's
environment as for ``python -m app serve`` (``APP_ENV=production``, ``DATABASE_URL``,
``JWKS_URL``…); migrations stay a separate step (``python -m app migrate``). The app is built
on the first invocation and kept for the life of the execution environment, with its
connection pool and its event loop (Mangum runs every invocation on the same loop).
"""

from __future__ import annotations

import logging
from typing import Any

_adapter: Any = None
_container: Any = None  # the parts behind _adapter (its engine, for a test to dispose)


def _build() -> Any:
    from mangum import Mangum

    from app import logs
    from app.database import resolve_url
    from app.http import create_app
    from app.settings import Settings
    from app.startup import require_settings
    from app.wiring import Container

    settings = Settings()
    logs.configure(settings.log_level)
    logging.getLogger("mangum").setLevel(logging.WARNING)  # hrgraph.access logs each request
    require_settings(settings)
    global _container
    _container = container = Container.build(settings, resolve_url(settings))
    # No lifespan: a Lambda environment is frozen, not shut down; the pool simply goes with it.
    # Mangum types the app as returning a Coroutine; Starlette's ASGIApp says Awaitable.
    app: Any = create_app(container)
    return Mangum(app, lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _adapter
    if _adapter is None:
        _adapter = _build()
    response: dict[str, Any] = _adapter(event, context)
    return response

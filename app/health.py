"""/healthz (the process answers) and /readyz (it can reach the database): the probes of a
load balancer or an orchestrator. Their requests are not access-logged (``app/request_scope.py``)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HEALTHZ = "/healthz"
READYZ = "/readyz"
PROBE_PATHS = (HEALTHZ, READYZ)


def health_routes(engine: AsyncEngine) -> list[Route]:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with asyncio.timeout(2):
                async with engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        except Exception as error:  # any failure means: do not send traffic here
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    return [Route(HEALTHZ, healthz), Route(READYZ, readyz)]

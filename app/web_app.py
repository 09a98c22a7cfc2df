"""The HR web app at ``/app/``: the built bundle (``frontend/dist``, made by ``make run`` or
``npm run build`` in ``frontend/``) with every unknown path answered by its ``index.html``, the
page's settings at ``/app/config.json``, and, outside production only, the demo sign-in:
``GET /app/dev/people`` lists the live people and ``POST /app/dev/token`` issues a development
token for one of them. In production both are 404 and the token comes from the identity
provider (``OIDC_AUTHORIZE_URL``, ``OIDC_CLIENT_ID``, ``OIDC_SCOPE``).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.settings import ROOT
from app.wiring import Container
from domains.kernel.principal import Principal, Role

DIST = ROOT / "frontend" / "dist"
PREFIX = "/app"
MAX_EMAIL = 320

_PEOPLE = sa.text(
    """SELECT u.id, u.company_id, u.email, u.full_name, u.role, c.name AS company
    FROM users u JOIN companies c ON c.id = u.company_id
    WHERE u.deleted_at IS NULL AND c.deleted_at IS NULL
    ORDER BY c.name, u.role DESC, u.email
    LIMIT 200"""
)

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>HR Graph: web app not built</title></head>
<body><main><h1>The web app is not built</h1>
<p>Build it with <code>make run</code> (it builds <code>frontend/dist</code> when Node.js 20 or newer
with npm is installed), or by hand: <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.
The API at <a href="/graphql">/graphql</a> works without it.</p></main></body></html>"""


class SinglePageApp(StaticFiles):
    """The bundle's files; any other path (a route of the app, /app/review) gets index.html."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
            response = await super().get_response("index.html", scope)
        if path in (".", "", "index.html") or response.media_type == "text/html":
            response.headers["Cache-Control"] = "no-cache"  # the hashed assets may change under it
        return response


def web_app_routes(container: Container, dist: Path = DIST) -> list[BaseRoute]:
    settings = container.settings

    async def config(_: Request) -> Response:
        oidc: dict[str, str] | None = None
        if settings.oidc_authorize_url and settings.oidc_client_id:
            oidc = {
                "authorizeUrl": settings.oidc_authorize_url,
                "clientId": settings.oidc_client_id,
                "scope": settings.oidc_scope,
            }
        return JSONResponse({"devSignIn": not settings.production, "oidc": oidc})

    async def people(_: Request) -> Response:
        async with container.engine.connect() as conn:
            rows = (await conn.execute(_PEOPLE)).mappings().all()
        return JSONResponse(
            [
                {"email": r["email"], "fullName": r["full_name"], "role": r["role"], "company": r["company"]}
                for r in rows
            ]
        )

    async def token(request: Request) -> Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not email.strip() or len(email) > MAX_EMAIL:
            return JSONResponse({"message": "Send a JSON body with the email of a demo person."}, status_code=400)
        async with container.engine.connect() as conn:
            rows = (await conn.execute(_PEOPLE)).mappings().all()
        found = [r for r in rows if r["email"] == email.strip().lower()]
        if len(found) != 1:
            return JSONResponse({"message": f"No demo person has the email {email.strip()}."}, status_code=404)
        row = found[0]
        principal = Principal(
            uuid.UUID(str(row["id"])), uuid.UUID(str(row["company_id"])), frozenset({Role(row["role"])}), row["email"]
        )
        return JSONResponse({"token": container.verifier.issue(principal)})

    async def not_found(_: Request) -> Response:
        return JSONResponse({"message": "Not found."}, status_code=404)

    async def to_app(_: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)  # relative: never built from Host

    dev: list[BaseRoute]
    if settings.production:
        dev = [Route(PREFIX + "/dev/{rest:path}", not_found, methods=["GET", "POST", "HEAD"])]
    else:
        dev = [
            Route(PREFIX + "/dev/people", people, methods=["GET"]),
            Route(PREFIX + "/dev/token", token, methods=["POST"]),
            Route(PREFIX + "/dev/{rest:path}", not_found, methods=["GET", "POST", "HEAD"]),
        ]
    bundle: BaseRoute
    if (dist / "index.html").is_file():
        bundle = Mount(PREFIX, SinglePageApp(directory=dist, html=True), name="web-app")
    else:

        async def not_built(_: Request) -> Response:
            return HTMLResponse(NOT_BUILT, status_code=503)

        bundle = Route(PREFIX + "/{rest:path}", not_built)
    return [Route(PREFIX, to_app), Route(PREFIX + "/config.json", config), *dev, bundle]

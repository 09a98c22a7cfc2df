"""The real app under uvicorn in a background thread, with the reference endpoints beside it.

The reference answers the same questions as the GraphQL workloads, in the same JSON
shape, with ONE hand-written SQL statement each that builds the whole JSON in PostgreSQL.
It checks no token and does no GraphQL work: it is the floor, not a competitor.
"""

from __future__ import annotations

import cProfile
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from domains.kernel.ids import from_global_id


def _gid(type_name: str, column: str) -> str:
    # PostgreSQL's base64 wraps at 76 characters; these ids are 60, but strip newlines anyway.
    return f"replace(encode(convert_to('{type_name}:' || {column}::text, 'UTF8'), 'base64'), E'\\n', '')"


W1_SQL = f"""
SELECT json_build_object('data', json_build_object('documents', json_build_object('edges',
         coalesce(json_agg(json_build_object('node', json_build_object(
           'id', {_gid("Document", "d.id")},
           'title', d.title,
           'status', d.status,
           'owner', json_build_object(
             'id', {_gid("User", "u.id")},
             'email', u.email,
             'company', json_build_object('id', {_gid("Company", "c.id")}, 'name', c.name))))
           ORDER BY d.created_at DESC, d.id DESC), '[]'::json))))::text
FROM (SELECT id, title, status, owner_id, created_at
        FROM documents
       WHERE company_id = $1 AND deleted_at IS NULL
       ORDER BY created_at DESC, id DESC
       LIMIT 100) AS d
JOIN users AS u ON u.id = d.owner_id AND u.deleted_at IS NULL AND u.company_id = $1
JOIN companies AS c ON c.id = u.company_id AND c.deleted_at IS NULL
"""

W2_SQL = f"""
SELECT json_build_object('data', json_build_object('document', (
  SELECT json_build_object('id', {_gid("Document", "d.id")}, 'title', d.title,
                           'owner', json_build_object('email', u.email))
    FROM documents AS d
    JOIN users AS u ON u.id = d.owner_id AND u.deleted_at IS NULL AND u.company_id = $2
   WHERE d.id = $1 AND d.company_id = $2 AND d.deleted_at IS NULL)))::text
"""


W3_SQL = """
SELECT json_build_object('data', json_build_object('companies', json_build_object(
  'totalCount', (SELECT count(*) FROM companies WHERE id = $1 AND deleted_at IS NULL),
  'edges', coalesce((
    SELECT json_agg(json_build_object('node', json_build_object('name', c.name, 'users', json_build_object(
      'totalCount', (SELECT count(*) FROM users AS u2 WHERE u2.company_id = c.id AND u2.deleted_at IS NULL),
      'edges', coalesce((
        SELECT json_agg(json_build_object('node', json_build_object('email', u.email, 'documents', json_build_object(
          'totalCount', (SELECT count(*) FROM documents AS d2
                          WHERE d2.owner_id = u.id AND d2.company_id = $1 AND d2.deleted_at IS NULL),
          'edges', coalesce((
            SELECT json_agg(json_build_object('node', json_build_object('title', d.title))
                            ORDER BY d.created_at DESC, d.id DESC)
              FROM (SELECT title, created_at, id FROM documents
                     WHERE owner_id = u.id AND company_id = $1 AND deleted_at IS NULL
                     ORDER BY created_at DESC, id DESC LIMIT 5) AS d), '[]'::json))))
          ORDER BY u.full_name, u.id)
          FROM (SELECT id, email, full_name FROM users
                 WHERE company_id = c.id AND deleted_at IS NULL
                 ORDER BY full_name, id LIMIT 20) AS u), '[]'::json))))
      ORDER BY c.name, c.id)
      FROM (SELECT id, name FROM companies WHERE id = $1 AND deleted_at IS NULL
             ORDER BY name, id LIMIT 20) AS c), '[]'::json))))::text
"""

_W4_MATCH = """d.company_id = $1 AND d.deleted_at IS NULL AND d.status IN ('REQUESTED', 'UPLOADED')
  AND EXISTS (SELECT 1 FROM users AS u WHERE u.id = d.owner_id AND u.deleted_at IS NULL
                AND u.company_id = $1 AND u.email ILIKE '%a%')"""

W4_SQL = f"""
WITH page AS (
  SELECT d.id, d.title, d.status, d.due_on FROM documents AS d WHERE {_W4_MATCH}
   ORDER BY d.due_on ASC NULLS LAST, d.title ASC NULLS LAST, d.id ASC LIMIT 51)
SELECT json_build_object('data', json_build_object('documents', json_build_object(
  'totalCount', (SELECT count(*) FROM documents AS d WHERE {_W4_MATCH}),
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > 50),
  'edges', coalesce((
    SELECT json_agg(json_build_object('node', json_build_object(
             'id', {_gid("Document", "p.id")}, 'title', p.title, 'status', p.status, 'dueOn', p.due_on))
             ORDER BY p.due_on ASC NULLS LAST, p.title ASC NULLS LAST, p.id ASC)
      FROM (SELECT * FROM page ORDER BY due_on ASC NULLS LAST, title ASC NULLS LAST, id ASC LIMIT 50) AS p),
    '[]'::json))))::text
"""

W5_SQL = f"""
UPDATE documents AS d SET note = $2, version = d.version + 1, updated_at = now()
 WHERE d.id = $1 AND d.version = $3 AND d.company_id = $4 AND d.deleted_at IS NULL
RETURNING json_build_object('data', json_build_object('updateDocument', json_build_object(
  '__typename', 'DocumentPayload',
  'document', json_build_object('id', {_gid("Document", "d.id")}, 'version', d.version, 'note', d.note))))::text
"""


def build_asgi(app: Any, dsn: str, company_id: uuid.UUID, pool_size: int, on_shutdown: Any) -> Starlette:
    """The benchmark's router: /reference/* here, everything else to the real app."""
    pool: dict[str, asyncpg.Pool] = {}

    async def w1(_: Request) -> Response:
        async with pool["pool"].acquire() as conn:
            body = await conn.fetchval(W1_SQL, company_id)
        return Response(body, media_type="application/json")

    async def w2(request: Request) -> Response:
        try:
            _, id_ = from_global_id(request.query_params["id"])
        except (KeyError, ValueError):
            return JSONResponse({"errors": [{"message": "bad id"}]}, status_code=400)
        async with pool["pool"].acquire() as conn:
            body = await conn.fetchval(W2_SQL, id_, company_id)
        return Response(body, media_type="application/json")

    async def w3(_: Request) -> Response:
        async with pool["pool"].acquire() as conn:
            body = await conn.fetchval(W3_SQL, company_id)
        return Response(body, media_type="application/json")

    async def w4(_: Request) -> Response:
        async with pool["pool"].acquire() as conn:
            body = await conn.fetchval(W4_SQL, company_id)
        return Response(body, media_type="application/json")

    async def w5(request: Request) -> Response:
        try:
            _, id_ = from_global_id(request.query_params["id"])
            version = int(request.query_params["version"])
        except (KeyError, ValueError):
            return JSONResponse({"errors": [{"message": "bad id or version"}]}, status_code=400)
        async with pool["pool"].acquire() as conn:
            body = await conn.fetchval(W5_SQL, id_, request.query_params.get("note", ""), version, company_id)
        if body is None:
            return JSONResponse({"data": {"updateDocument": {"__typename": "ConflictError"}}})
        return Response(body, media_type="application/json")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pool["pool"] = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        try:
            yield
        finally:
            await pool["pool"].close()
            # Mount does not forward lifespan: do what the real app's shutdown does.
            await on_shutdown()

    return Starlette(
        routes=[
            Route("/reference/w1", w1, methods=["POST"]),
            Route("/reference/w2", w2, methods=["GET"]),
            Route("/reference/w3", w3, methods=["POST"]),
            Route("/reference/w4", w4, methods=["POST"]),
            Route("/reference/w5", w5, methods=["POST"]),
            Mount("", app=app),
        ],
        lifespan=lifespan,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    def __init__(self, app: Any, port: int, profile: cProfile.Profile | None = None) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.profile = profile
        self.thread = threading.Thread(target=self._run, name="bench-uvicorn", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            if self.profile is not None:
                self.profile.runcall(self.server.run)
            else:
                self.server.run()
        except BaseException as error:  # reported by start()
            self.error = error

    def start(self, timeout: float = 30) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"uvicorn did not start: {self.error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start in time")
            time.sleep(0.05)

    def stop(self, timeout: float = 15) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

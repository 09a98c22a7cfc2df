"""Compiled reads, wired: plan (``schema/compiled``), one statement per root field
(``adapters/sql/compiled``), the answer's bytes. ``None`` anywhere means: the resolver path
answers this request, exactly as it would have without this module."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError

from adapters.sql.compiled import ReadCompiler, UncompilableRead, parameters, viewer_parameters
from adapters.sql.database import RequestDatabase
from adapters.sql.rls import NOBODY, DatabaseScope
from app.wiring import Container
from domains.kernel.errors import DomainError, Unavailable
from domains.kernel.principal import Principal
from domains.kernel.selection import ReadPlan, RootConnection, RootConstant, RootField, RootObject
from schema.compiled.planner import CACHED_TEXT_LIMIT, ReadPlanner
from schema.root import OPERATION_LIMIT_RULES

log = logging.getLogger("hrgraph.compiled")

# A plan and its statements (None: no SQL needed for that root field), or None when the
# resolver path answers. The same text, variables and reader always prepare the same.
Prepared = tuple[ReadPlan, list[Any]] | None
PREPARED_CACHE_SIZE = 512


class CompiledReads:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.planner = ReadPlanner(container.schema, container.registry, OPERATION_LIMIT_RULES)
        self.compiler = ReadCompiler(container.registry, container.tables)
        self.viewer_check = self.compiler.viewer_check()
        # Only their page and ordering checks are used here; they never touch the database.
        self.checks = container.services(container.request_database(NOBODY))
        self._prepared: OrderedDict[Any, Prepared] = OrderedDict()
        self._by_id: OrderedDict[Any, Any] = OrderedDict()

    async def answer(self, request: Any, authorization: str | None, state: dict[str, Any]) -> bytes | None:
        """The JSON response for a GraphQL request body, or None to let the resolvers answer."""
        try:
            return await self._answer(request, authorization, state)
        except Exception:  # a bug here must cost speed, never an answer
            log.exception("compiled read failed; the resolver path answers")
            return None

    async def _answer(self, request: Any, authorization: str | None, state: dict[str, Any]) -> bytes | None:
        if not isinstance(request, dict):
            return None
        query, variables, operation_name = request.get("query"), request.get("variables"), request.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
            or not isinstance(request.get("extensions"), dict | None)
        ):
            return None
        # The signature and expiry only (no database): the resolver path owns the
        # UNAUTHENTICATED answer, and a token claiming no role or several never matches one row.
        claimed, _ = self.container.auth.claimed(authorization)
        viewer = None if claimed is None else viewer_parameters(claimed)
        if claimed is None or viewer is None:
            return None
        # Planned for the CLAIMED principal; each statement answers only if the stored user
        # still matches those claims exactly (``stored_user_matches``, the compiled twin of
        # ``adapters.auth.sign_in.SignIn.user``), so no separate look-up of the user is needed. The
        # claimed email is left out: nothing compiled reads it, and it is not checked.
        principal = Principal(user_id=claimed.user_id, company_id=claimed.company_id, roles=claimed.roles)
        prepared = self._prepare(query, variables, operation_name, principal)
        if prepared is None:
            return None
        plan, statements = prepared
        executed = [
            (s, parameters(f, principal)) for f, s in zip(plan.fields, statements, strict=True) if s is not None
        ]
        if not executed:  # only constants and ids that cannot match: the check still runs
            executed = [(self.viewer_check, viewer)]
        # As the claimed caller: each statement answers only if the stored user matches them.
        db = self.container.request_database(DatabaseScope.of(principal))
        try:
            results = await asyncio.gather(*(db.execute(s, p) for s, p in executed))
        except DBAPIError:
            # For instance a cursor whose values do not fit the columns: the resolver path
            # reports it the way it always has.
            log.debug("compiled read failed in SQL; the resolver path answers", exc_info=True)
            return None
        except Unavailable:
            return None  # the resolver path answers SERVICE_UNAVAILABLE
        rows = [result.first() for result in results]
        if any(row is None for row in rows):
            # The user is gone, or their stored role or company differ from the claims: the
            # resolver path answers with the stored row (or UNAUTHENTICATED), as always.
            return None
        values = iter(row[0] for row in rows if row is not None)
        state["operation"] = operation_name or plan.operation_name
        return self._response(plan, statements, values, db)

    def _prepare(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None, principal: Any
    ) -> Prepared:
        """Planning and building the statements cost more CPU than PostgreSQL spends on them:
        a frontend repeats its reads, so they are kept (LRU) by text, variables and reader."""
        variables_key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        key = (query, operation_name, variables_key, principal)
        if key in self._prepared:
            self._prepared.move_to_end(key)
            return self._prepared[key]
        prepared: Prepared = None
        plan = self.planner.plan(query, variables, operation_name, principal, self.checks)
        if plan is not None:
            try:
                prepared = plan, [self._statement(field, principal) for field in plan.fields]
            except (UncompilableRead, DomainError):
                prepared = None
        if len(query) > CACHED_TEXT_LIMIT or len(variables_key) > CACHED_TEXT_LIMIT:
            return prepared  # not kept: the cache must not be made to hold megabytes
        self._prepared[key] = prepared
        if len(self._prepared) > PREPARED_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    def _statement(self, field: RootField, principal: Principal) -> Any:
        """Built once per selection and reader for look-ups by id, whose id varies (``W2``)."""
        if not isinstance(field, RootObject) or field.node is None:
            return self.compiler.statement(field, principal)
        try:
            key = (field.node, principal)
            hash(key)
        except TypeError:  # a list among the nested filters' values: build it each time
            return self.compiler.statement(field, principal)
        if key not in self._by_id:
            self._by_id[key] = self.compiler.statement(field, principal)
            if len(self._by_id) > PREPARED_CACHE_SIZE:
                self._by_id.popitem(last=False)
        return self._by_id[key]

    def _response(self, plan: ReadPlan, statements: list[Any], values: Any, db: RequestDatabase) -> bytes:
        parts: list[bytes] = []
        for field, statement in zip(plan.fields, statements, strict=True):
            if isinstance(field, RootConstant):
                key, value = field.constant.key, orjson.dumps(field.constant.value)
            else:
                key = field.key if isinstance(field, RootObject) else field.connection.key
                assert isinstance(field, RootObject | RootConnection)
                text = next(values) if statement is not None else None
                value = b"null" if text is None else text.encode()
            parts.append(b'"' + key.encode() + b'":' + value)
        body = b'{"data":{' + b",".join(parts) + b"}"
        if not self.container.settings.production:
            sql = {"sql": {"statements": db.statements, "ms": round(db.seconds * 1000, 2)}}
            body += b',"extensions":' + orjson.dumps(sql)
        return body + b"}"

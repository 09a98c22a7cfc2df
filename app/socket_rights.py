"""A WebSocket's rights, as of now.

A socket signs in once (``connection_init``) but lives for hours: its user may be deleted,
demoted or moved to another company meanwhile, and its token expires. So:

- every operation on the socket signs in again, with the token the socket gave, exactly as
  an HTTP request does (signature, expiry, the stored user's row: one look-up, counted in
  the operation's SQL), and runs as the principal found now;
- every event delivered to a subscription first asks whether the stored user still has the
  rights the subscription started with. That answer is shared by every subscription of the
  user in the process and read again at most every ``recheck_seconds`` (one look-up per
  user and period, not one per event); when it changed, the subscription ends with a typed
  error instead of the event;
- the socket is closed when its token expires (see ``app/sockets.py``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from domains.kernel.principal import Principal
from schema.context import Context

LoadPrincipal = Callable[[uuid.UUID], Awaitable[Principal | None]]
"""The stored user's principal now (None when deleted): one look-up."""


class StoredPrincipals:
    """Who each user is now, as the database says, shared by the process's subscriptions."""

    def __init__(self, load: LoadPrincipal, recheck_seconds: float) -> None:
        self._load = load
        self.recheck_seconds = recheck_seconds
        self._known: dict[uuid.UUID, tuple[float, asyncio.Future[Principal | None]]] = {}

    def remember(self, user_id: uuid.UUID, principal: Principal | None) -> None:
        """A fresh answer read elsewhere (an operation's own sign-in)."""
        future: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        future.set_result(principal)
        self._known[user_id] = (time.monotonic(), future)

    async def current(self, user_id: uuid.UUID) -> Principal | None:
        now = time.monotonic()
        known = self._known.get(user_id)
        if known is None or now - known[0] >= self.recheck_seconds or _failed(known[1]):
            # one look-up for all the subscriptions asking at once
            self._known[user_id] = known = (now, asyncio.ensure_future(self._load(user_id)))
            self._forget_old(now)
        answer = known[1]
        if answer.done():  # the common case, once per event and subscriber: no task, no wait
            return answer.result()
        return await asyncio.shield(answer)

    def _forget_old(self, now: float) -> None:
        if len(self._known) < 10_000:
            return
        for user_id, (checked_at, _) in list(self._known.items()):
            if now - checked_at >= self.recheck_seconds:
                del self._known[user_id]


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


@dataclass
class SocketSignIn:
    """What a socket signed in with: the header value, and when it stops being valid."""

    authorization: str
    user_id: uuid.UUID
    valid_until: datetime | None


def refusal(message: str, code: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


async def one(result: ExecutionResult) -> AsyncGenerator[ExecutionResult, None]:
    yield result


def signed_out(context: Context) -> AsyncGenerator[ExecutionResult, None]:
    """The one answer to an operation whose socket's user is gone (deleted, token expired, or
    the database unavailable to tell), as HTTP gives it: the operation does not run."""
    failure = context.auth_failure
    if failure is not None:
        return one(refusal(failure.message, failure.code))
    return one(refusal(context.auth_error or "a bearer token is required", "UNAUTHENTICATED"))


async def as_of_now(
    results: AsyncIterator[Any],
    principal: Principal | None,
    sign_in: SocketSignIn | None,
    principals: StoredPrincipals,
) -> AsyncIterator[Any]:
    """The results of one operation on a socket, each sent only while its principal's rights
    still hold; otherwise one typed error, and the operation ends."""
    async for result in results:
        if principal is None or sign_in is None:  # refused as UNAUTHENTICATED by the resolvers
            yield result
            continue
        if sign_in.valid_until is not None and datetime.now(UTC) >= sign_in.valid_until:
            yield refusal("the token has expired: sign in again", "UNAUTHENTICATED")
            return
        now = await principals.current(principal.user_id)
        if now is None:
            yield refusal(
                "the user of this token is unknown (deleted, or from another database): get a new token",
                "UNAUTHENTICATED",
            )
            return
        if now != principal:
            yield refusal("your role or company changed since this subscription started: subscribe again", "FORBIDDEN")
            return
        yield result

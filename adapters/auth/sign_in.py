"""The authentication policy: who an ``Authorization`` header speaks for, as of now.

A valid signature proves who the token was issued to, not that this person still exists nor
what they may do now: the stored user decides. Built once per process (``Container.auth``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from adapters.auth.tokens import TokenVerifier
from domains.kernel.errors import Unauthenticated
from domains.kernel.principal import Principal, Role
from domains.user.model import User

SYSTEM = Principal(user_id=uuid.UUID(int=0), company_id=uuid.UUID(int=0), roles=frozenset({Role.ADMIN}))
"""Who seeding, the CLI and this policy's own look-ups act as: the system, not a person."""


class Users(Protocol):
    """The generic User service (``domains.kernel.crud.EntityService``), as far as read here."""

    async def get_many(self, actor: Principal, ids: Sequence[uuid.UUID]) -> Sequence[User | None]: ...


class Caller(Protocol):
    """Who the database answers as (its row-level security), told as sign-in learns it: the
    token's claimed user while her own row is read, then the stored user, or nobody
    (``adapters.sql.database.RequestDatabase``)."""

    def signing_in(self, claimed: Principal) -> None: ...

    def signed_in(self, principal: Principal | None) -> None: ...


def principal_of(user: User) -> Principal:
    """Who is asking, from the stored row: never from a token's claims."""
    return Principal(user_id=user.id, company_id=user.company_id, roles=frozenset({user.role}), email=user.email)


class SignIn:
    """``users`` gives a User service on a database handle of its own that may read that
    user's row, for a look-up outside any operation (a socket's re-check of who its
    subscriber is now)."""

    def __init__(self, verifier: TokenVerifier, users: Callable[[uuid.UUID], Users]) -> None:
        self.verifier = verifier
        self.users = users

    def claimed(self, authorization: str | None) -> tuple[Principal | None, str | None]:
        """Who a well-signed, unexpired token CLAIMS to be, or why it cannot be used; no database.

        Claims are not to be trusted beyond the user id: ``user`` (or, on the compiled read
        path, ``adapters.sql.compiled.stored_user_matches``) decides against the stored user."""
        if not authorization:
            return None, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "the Authorization header must be 'Bearer <token>'"
        try:
            return self.verifier.verify(token.strip()), None
        except Unauthenticated as error:
            return None, error.message

    async def user(
        self, authorization: str | None, users: Users | None = None, caller: Caller | None = None
    ) -> tuple[User | None, str | None]:
        """The stored user an ``Authorization`` header value speaks for, or why there is none.

        The user row is read (one primary-key look-up, on the operation's own ``users`` when
        given, so it shows in ``extensions.sql``) and its role and company are the ones that
        count. No cache: a deleted user is locked out at once. ``caller``: the operation's
        database, told who it answers as (the claimed user for this look-up: the same as the
        stored one almost always, so no statement to switch after)."""
        claimed, error = self.claimed(authorization)
        if claimed is None:
            return None, error
        if caller is not None:
            caller.signing_in(claimed)
        (user,) = await (users or self.users(claimed.user_id)).get_many(SYSTEM, [claimed.user_id])
        if caller is not None:
            caller.signed_in(principal_of(user) if user is not None else None)
        if user is None:
            return None, "the user of this token is unknown (deleted, or from another database): get a new token"
        return user, None

    async def principal(
        self, authorization: str | None, users: Users | None = None, caller: Caller | None = None
    ) -> tuple[Principal | None, str | None]:
        """The principal for an ``Authorization`` header value, or why there is none."""
        user, error = await self.user(authorization, users, caller)
        return (principal_of(user) if user is not None else None), error

    async def stored_principal(self, user_id: uuid.UUID) -> Principal | None:
        """The principal of the stored user now, None when deleted: one primary-key look-up."""
        (user,) = await self.users(user_id).get_many(SYSTEM, [user_id])
        return principal_of(user) if user is not None else None

"""Ports every domain shares. Implementations live in ``adapters/``; fakes in ``tests/``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from domains.kernel.entity import EntitySpec
from domains.kernel.query import Filter, Order, Page, PageRequest


class EntityStore(Protocol):
    """Persistence for any declared entity. ``scope`` filters are ANDed in by the store."""

    async def get_many(
        self,
        spec: EntitySpec[Any],
        ids: Sequence[uuid.UUID],
        scope: Filter | None,
        *,
        include_deleted: bool = False,
    ) -> list[Any]: ...

    async def find(
        self,
        spec: EntitySpec[Any],
        filter: Filter | None,
        order: Sequence[Order],
        page: PageRequest,
        limit: int,
    ) -> Page[Any]: ...

    async def find_grouped(
        self,
        spec: EntitySpec[Any],
        key: str,
        keys: Sequence[Any],
        filter: Filter | None,
        order: Sequence[Order],
        limit: int,
        after: str | None,
    ) -> dict[Any, Page[Any]]: ...

    async def count(self, spec: EntitySpec[Any], filter: Filter | None) -> int: ...

    async def count_grouped(
        self, spec: EntitySpec[Any], key: str, keys: Sequence[Any], filter: Filter | None
    ) -> dict[Any, int]: ...

    async def exists(self, spec: EntitySpec[Any], filter: Filter, *, include_deleted: bool = True) -> bool: ...

    async def insert(self, spec: EntitySpec[Any], entity: Any) -> None: ...

    async def update(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> bool:
        """Writes ``entity`` if the stored version is still ``expected_version``."""
        ...

    async def save(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> None:
        """``update`` at the next version, or ``Conflict``: ``domains.kernel.versions.VersionedSave``."""
        ...


class AfterCommit(Protocol):
    """Side effects that must only happen once the request's transaction has committed."""

    def defer(self, action: Callable[[], Awaitable[None]]) -> None: ...


class Work(AfterCommit, Protocol):
    """The operation's unit of work as a use case sees it (``domains.kernel.unit_of_work``):
    the transaction the use case opens (or joins, when another use case opened it) and the
    side effects deferred until it commits."""

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

"""Per-request dataloaders: every relation is fetched in one batch per level of nesting.

``XByIdLoader`` batches belongs-to relations and ``node``/``x(id)`` look-ups; a
``XByKeyLoader`` batches one page per parent of a has-many relation. Both go through the
entity's service, so tenant scope and permissions apply exactly as for lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from domains.kernel.crud import EntityService
from domains.kernel.principal import Principal
from domains.kernel.query import Filter, Order, Page


class Loaders:
    def __init__(self, services: dict[str, EntityService[Any]], viewer: Callable[[], Principal]) -> None:
        self._services = services
        self._viewer = viewer
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}

    def by_id(self, entity: str) -> DataLoader[uuid.UUID, Any]:
        key = ("by_id", entity)
        if key not in self._loaders:
            service = self._services[entity]

            async def load(ids: Sequence[uuid.UUID]) -> list[Any]:
                return await service.get_many(self._viewer(), ids)

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def by_key(
        self,
        entity: str,
        key_field: str,
        filter: Filter | None,
        order: Sequence[Order],
        first: int | None,
        after: str | None,
    ) -> DataLoader[Any, Page[Any]]:
        key = ("by_key", entity, key_field, repr(filter), repr(order), first, after)
        if key not in self._loaders:
            service = self._services[entity]

            async def load(keys: Sequence[Any]) -> list[Page[Any]]:
                pages = await service.list_by(self._viewer(), key_field, keys, filter, order, first, after)
                return [pages[k] for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def custom(self, key: Any, build: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """A per-domain loader (``schema/<d>/``), built once per operation under ``key``."""
        if key not in self._loaders:
            self._loaders[key] = build()
        return self._loaders[key]

    def count_by_key(self, entity: str, key_field: str, filter: Filter | None) -> DataLoader[Any, int]:
        key = ("count_by_key", entity, key_field, repr(filter))
        if key not in self._loaders:
            service = self._services[entity]

            async def load(keys: Sequence[Any]) -> list[int]:
                counts = await service.count_by(self._viewer(), key_field, keys, filter)
                return [counts[k] for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

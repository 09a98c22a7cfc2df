"""Optimistic concurrency, written once: the check of the version a caller saw, and the save
that writes an entity back only over the version it was read at."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from domains.kernel.entity import Entity, EntitySpec, utcnow
from domains.kernel.errors import Conflict
from domains.kernel.query import Filter


def check_version(name: str, entity: Entity, expected_version: int) -> None:
    """The caller acted on ``expected_version``: anything else is a ``Conflict`` that says the
    current one."""
    if entity.version != expected_version:
        raise Conflict(f"{name} is at version {entity.version}, not {expected_version}", current_version=entity.version)


class VersionedSave:
    """The ``save`` of every entity store, over its compare-and-set ``update``."""

    async def get_many(
        self,
        spec: EntitySpec[Any],
        ids: Sequence[uuid.UUID],
        scope: Filter | None,
        *,
        include_deleted: bool = False,
    ) -> list[Any]:
        raise NotImplementedError

    async def update(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> bool:
        raise NotImplementedError

    async def save(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> None:
        """Writes ``entity`` at ``expected_version + 1``, or raises ``Conflict`` (with the
        stored version) when another change came first."""
        entity.version = expected_version + 1
        entity.updated_at = utcnow()
        if not await self.update(spec, entity, expected_version):
            current = await self.get_many(spec, [entity.id], None, include_deleted=True)
            version = current[0].version if current else None
            raise Conflict(f"{spec.name} was changed meanwhile", current_version=version)

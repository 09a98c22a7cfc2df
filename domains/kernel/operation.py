"""The kernel's ports of one operation: what a context's commands are built from when they
need nothing else (no adapter of their own), so that the composition root builds them without
naming them (``domains.catalog.BUILT_FROM_KERNEL``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domains.kernel.crud import EntityService
from domains.kernel.ports import EntityStore, Work


@dataclass(frozen=True)
class KernelPorts:
    services: Mapping[str, EntityService[Any]]
    """The generic use cases of every declared entity, by entity name."""
    store: EntityStore
    """The entity store itself: reads as the system (a reaction acts for no one) and ``save``."""
    uow: Work
    """The operation's unit of work: a command's transaction, and what runs after it commits."""

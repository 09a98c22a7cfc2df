"""Relay connection values: what the generated ``XConnection`` and ``XEdge`` types resolve from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from domains.kernel.query import Page


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(slots=True)
class EdgeValue:
    cursor: str
    node: Any


class ConnectionValue:
    """A page of rows; ``totalCount`` is counted only when a client selects it."""

    def __init__(self, page: Page[Any], count: Callable[[], Awaitable[int]]) -> None:
        self.edges = [EdgeValue(c, n) for c, n in zip(page.cursors, page.items, strict=True)]
        self.page_info = PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )
        self._count = count

    async def total_count(self) -> int:
        return await self._count()

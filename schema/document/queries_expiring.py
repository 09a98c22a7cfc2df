"""documentsExpiringBefore(date): the documents (in the caller's scope) whose expiry date is
before ``date`` and that have not expired yet, soonest first."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from domains.document.spec import expiring_before
from domains.kernel.query import Order, PageRequest
from schema.connection import ConnectionValue
from schema.context import Info

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def expiring_queries(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["Document"]

    async def documents_expiring_before(
        info: Info, date: datetime.date, first: int | None = None, after: str | None = None
    ) -> Any:
        service = info.context.service("Document")
        viewer = info.context.viewer
        where = expiring_before(date)
        page = await service.list(viewer, where, (Order("expires_on"),), PageRequest(first=first, after=after))

        async def count() -> int:
            return await service.count(viewer, where)

        return ConnectionValue(page, count)

    documents_expiring_before.__annotations__["return"] = types.connection
    return {
        "documents_expiring_before": strawberry.field(
            resolver=documents_expiring_before,
            description="Documents whose expiresOn is before date and that have not expired yet, soonest first.",
        )
    }

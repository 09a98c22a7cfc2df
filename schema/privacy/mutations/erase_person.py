"""erasePerson(userId, reason): HR asks for a person's erasure; a second HR or ADMIN confirms it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Info
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def erase_person(factory: EntitySchemaFactory) -> Any:
    types = factory.types["ErasureRequest"]

    async def erase_person(info: Info, user_id: strawberry.ID, reason: str) -> Any:
        subject = parse_id(user_id, "User", "userId")
        request = await info.context.commands.privacy.request_erasure(info.context.viewer, subject, reason)
        return types.payload(erasureRequest=request)

    erase_person.__annotations__["return"] = types.result
    return strawberry.field(
        resolver=erase_person,
        description="HR or ADMIN: asks for the person's erasure (nothing is erased yet). A second HR or an"
        " ADMIN confirms it with confirmErasure; the one who asked may not (FOUR_EYES).",
    )

"""confirmErasure(id): the second pair of eyes; the person's files and personal fields go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Info
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def confirm_erasure(factory: EntitySchemaFactory) -> Any:
    types = factory.types["ErasureRequest"]

    async def confirm_erasure(info: Info, id: strawberry.ID) -> Any:
        key = parse_id(id, "ErasureRequest", "id")
        request = await info.context.commands.privacy.confirm_erasure(info.context.viewer, key)
        return types.payload(erasureRequest=request)

    confirm_erasure.__annotations__["return"] = types.result
    return strawberry.field(
        resolver=confirm_erasure,
        description="HR (of the company) or ADMIN, not the one who asked: erases the person. Their documents'"
        " files are deleted from the blob store (every version and upload), their personal fields replaced by"
        " the request's pseudonym; documents of the kinds the law keeps (ERASURE_KEEP_KINDS) stay.",
    )

"""exportPersonData(userId): HR (of the person's company) or ADMIN asks for everything held
about a person in one archive; a worker assembles it and the export turns READY with a
short-lived download link (read it with personDataExport(id))."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Info
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def export_person_data(factory: EntitySchemaFactory) -> Any:
    types = factory.types["PersonDataExport"]

    async def export_person_data(info: Info, user_id: strawberry.ID) -> Any:
        subject = parse_id(user_id, "User", "userId")
        export = await info.context.commands.export.request(info.context.viewer, subject)
        return types.payload(personDataExport=export)

    export_person_data.__annotations__["return"] = types.result
    return strawberry.field(
        resolver=export_person_data,
        description="HR (of the person's company) or ADMIN: asks for an archive of everything held about the"
        " person (profile, documents with every file version, workflows and steps, the audit entries about"
        " them). A worker assembles it; poll personDataExport(id) until status is READY, then fetch"
        " downloadUrl before linkExpiresAt (EXPORT_LINK_SECONDS). The export is an audit entry (ExportIssued).",
    )

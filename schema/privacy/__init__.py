"""The privacy domain's GraphQL: a person's erasure on four eyes, and a person's data export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schema.domain import DomainSchema
from schema.privacy.mutations.confirm_erasure import confirm_erasure
from schema.privacy.mutations.erase_person import erase_person
from schema.privacy.mutations.export_person_data import export_person_data

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def privacy_mutations(factory: EntitySchemaFactory) -> dict[str, Any]:
    return {
        "erase_person": erase_person(factory),
        "confirm_erasure": confirm_erasure(factory),
        "export_person_data": export_person_data(factory),
    }


PRIVACY_SCHEMA = DomainSchema(name="privacy", mutations=privacy_mutations)

__all__ = ["PRIVACY_SCHEMA"]

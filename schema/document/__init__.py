"""The document domain's GraphQL: its commands as mutations, fields added to ``Document``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schema.document.fields import DOCUMENT_FIELDS
from schema.document.mutations import document_mutations
from schema.document.mutations_accept_extraction import accept_extraction_mutations
from schema.document.queries_expiring import expiring_queries
from schema.document.types import DocumentVersion, UploadTicket
from schema.domain import DomainSchema

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def _mutations(factory: EntitySchemaFactory) -> dict[str, Any]:
    return {**document_mutations(factory), **accept_extraction_mutations(factory)}


DOCUMENT_SCHEMA = DomainSchema(
    name="document",
    type_fields={"Document": DOCUMENT_FIELDS},
    queries=expiring_queries,
    mutations=_mutations,
    types=(DocumentVersion, UploadTicket),
)

__all__ = ["DOCUMENT_SCHEMA"]

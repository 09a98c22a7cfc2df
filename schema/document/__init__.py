"""The document domain's GraphQL: its commands as mutations, fields added to ``Document``."""

from schema.document.fields import DOCUMENT_FIELDS
from schema.document.mutations import document_mutations
from schema.document.types import DocumentVersion, UploadTicket
from schema.domain import DomainSchema

DOCUMENT_SCHEMA = DomainSchema(
    name="document",
    type_fields={"Document": DOCUMENT_FIELDS},
    mutations=document_mutations,
    types=(DocumentVersion, UploadTicket),
)

__all__ = ["DOCUMENT_SCHEMA"]

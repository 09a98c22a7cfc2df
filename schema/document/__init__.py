"""The document domain's GraphQL: its commands as mutations, fields added to ``Document``."""

from __future__ import annotations

from schema.document.fields import DOCUMENT_FIELDS
from schema.document.mutations import document_mutations
from schema.document.queries_expiring import expiring_queries
from schema.document.types import DocumentVersion, UploadTicket
from schema.domain import DomainSchema

DOCUMENT_SCHEMA = DomainSchema(
    name="document",
    type_fields={"Document": DOCUMENT_FIELDS},
    queries=expiring_queries,
    mutations=document_mutations,
    types=(DocumentVersion, UploadTicket),
)

__all__ = ["DOCUMENT_SCHEMA"]

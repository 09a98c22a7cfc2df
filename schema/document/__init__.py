"""The document domain's GraphQL: its commands as mutations, fields added to ``Document``."""

from schema.domain import DomainSchema

DOCUMENT_SCHEMA = DomainSchema(name="document")

__all__ = ["DOCUMENT_SCHEMA"]

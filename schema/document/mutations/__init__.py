"""The document commands as mutations, one a module. Each is a controller: GraphQL input to
domain values, one command (which owns its transaction), the domain value back."""

from schema.document.mutations import accept_extraction, approve, confirm_upload, reject, request_upload, submit
from schema.domain import mutation_fields

document_mutations = mutation_fields(
    (
        request_upload.MUTATION,
        confirm_upload.MUTATION,
        submit.MUTATION,
        approve.MUTATION,
        reject.MUTATION,
        accept_extraction.MUTATION,
    )
)

__all__ = ["document_mutations"]

"""GraphQL types of the document domain that the factory does not derive."""

from __future__ import annotations

import datetime

import strawberry

from domains.document.model import DocumentCommand as DomainDocumentCommand
from domains.document.model import DocumentFile, DocumentKind
from domains.document.ports import UploadTicket as DomainUploadTicket
from domains.kernel.ids import to_global_id
from schema.document.analysis_types import DocumentAnalysis

DocumentCommand = strawberry.enum(
    DomainDocumentCommand, name="DocumentCommand", description="A command one may run on a document."
)


@strawberry.type(description="One form field of a presigned upload, sent before the file.")
class UploadField:
    name: str
    value: str


@strawberry.type(description="Where and how to upload a file: POST multipart form data to url with fields, then file.")
class UploadTicket:
    url: str
    method: str
    fields: list[UploadField]
    expires_at: datetime.datetime

    @classmethod
    def of(cls, ticket: DomainUploadTicket) -> UploadTicket:
        return cls(
            url=ticket.url,
            method=ticket.method,
            fields=[UploadField(name=n, value=v) for n, v in ticket.fields],
            expires_at=ticket.expires_at,
        )


@strawberry.type(description="One uploaded file of a document.")
class DocumentVersion:
    version: int
    file_name: str
    content_type: str
    size_bytes: int
    checksum: str = strawberry.field(description="SHA-256 of the bytes, hex.")
    uploaded_at: datetime.datetime
    uploaded_by: strawberry.ID = strawberry.field(description="The User who uploaded it.")
    analysis: DocumentAnalysis | None = strawberry.field(
        description="What its analysis read (a job after the upload); null until it ran."
    )

    @classmethod
    def of(cls, file: DocumentFile) -> DocumentVersion:
        return cls(
            version=file.version,
            file_name=file.file_name,
            content_type=file.content_type,
            size_bytes=file.size_bytes,
            checksum=file.sha256,
            uploaded_at=file.uploaded_at,
            uploaded_by=strawberry.ID(to_global_id("User", file.uploaded_by)),
            analysis=DocumentAnalysis.of(file.analysis),
        )


@strawberry.input(
    description="A ticket to upload a file: for documentId, or for a new document (ownerId, kind, title)."
)
class RequestDocumentUploadInput:
    file_name: str
    content_type: str
    size_bytes: int
    document_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    kind: DocumentKind | None = None  # the factory's GraphQL enum of this Python enum
    title: str | None = None

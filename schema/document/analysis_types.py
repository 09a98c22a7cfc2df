"""GraphQL types of a file version's analysis (``domains/document/analysis.py``)."""

from __future__ import annotations

import datetime

import strawberry

from domains.document.analysis import Analysis, ExtractedField, ExtractedFieldName
from domains.document.model import DocumentKind

strawberry.enum(ExtractedFieldName, name="ExtractedFieldName", description="A field an analysis may read from a file.")


@strawberry.type(description="One field an analysis read from a file, with how sure it is (0 to 1).")
class ExtractedDocumentField:
    name: ExtractedFieldName
    value: str = strawberry.field(description="A date as ISO 8601 (2027-03-01); a name or number as read.")
    confidence: float
    accepted: bool = strawberry.field(description="HR accepted it (acceptDocumentExtraction).")

    @classmethod
    def of(cls, field: ExtractedField) -> ExtractedDocumentField:
        return cls(name=field.name, value=field.value, confidence=field.confidence, accepted=field.accepted)


@strawberry.type(description="What the analysis of a file read: it advises, it never moves the document's status.")
class DocumentAnalysis:
    analyzer: str = strawberry.field(description="Which analyzer read it: embedded or textract.")
    analyzed_at: datetime.datetime
    predicted_kind: DocumentKind | None = strawberry.field(description="What the file reads like; null without text.")
    confidence: float = strawberry.field(description="How sure the predicted kind is, 0 to 1.")
    fields: list[ExtractedDocumentField]
    warnings: list[str] = strawberry.field(
        description="For the reviewer: a kind other than the declared one, an expiry date passed, "
        "no readable text, a name that is not the owner's."
    )
    text: str = strawberry.field(description="The text read (its beginning).")
    pages: int

    @classmethod
    def of(cls, analysis: Analysis | None) -> DocumentAnalysis | None:
        if analysis is None:
            return None
        return cls(
            analyzer=analysis.analyzer,
            analyzed_at=analysis.analyzed_at,
            predicted_kind=analysis.predicted_kind,
            confidence=analysis.confidence,
            fields=[ExtractedDocumentField.of(f) for f in analysis.fields],
            warnings=list(analysis.warnings),
            text=analysis.text,
            pages=analysis.pages,
        )

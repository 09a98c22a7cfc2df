"""What a file says about itself: the ``DocumentAnalyzer`` port, its result, and the advice
the document context draws from it.

The analysis advises; people decide. It never moves a document's status: HR reads the
warnings and may accept an extracted field (``DocumentCommands.accept_extraction``), which
for an expiry date sets the document's ``expires_on``.

Implementations of the port: ``adapters/analysis/embedded.py`` (offline, on the CPU) and
``adapters/analysis/textract.py`` (AWS Textract), chosen by the ``ANALYZER`` setting in the
composition root; they run in workers only, from a job after ``confirmDocumentUpload``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from domains.document.kinds import DocumentKind

TEXT_KEPT = 4000
"""How much of a file's text the stored analysis keeps (enough to read, not a copy)."""

MISMATCH_CONFIDENCE = 0.6
"""A predicted kind other than the declared one is a warning from this confidence on."""


class ExtractedFieldName(enum.Enum):
    EXPIRY_DATE = "EXPIRY_DATE"
    PERSON_NAME = "PERSON_NAME"
    DOCUMENT_NUMBER = "DOCUMENT_NUMBER"


@dataclass(frozen=True)
class ExtractedField:
    name: ExtractedFieldName
    value: str
    """An expiry date as ISO 8601 (``2027-03-01``); a name or number as read."""
    confidence: float
    accepted: bool = False


@dataclass(frozen=True)
class AnalyzerResult:
    """What an analyzer reads from one file, before the document context's advice."""

    text: str
    kind: DocumentKind | None
    kind_confidence: float
    fields: tuple[ExtractedField, ...] = ()
    warnings: tuple[str, ...] = ()
    pages: int = 1


class DocumentAnalyzer(Protocol):
    """Reads one file: bytes and the type it was stored as in; text, kind, fields out."""

    name: str

    async def analyze(self, content: bytes, content_type: str) -> AnalyzerResult: ...


@dataclass(frozen=True)
class Analysis:
    """The stored analysis of one file version, with the advice for HR."""

    analyzer: str
    analyzed_at: datetime
    predicted_kind: DocumentKind | None
    confidence: float
    fields: tuple[ExtractedField, ...]
    warnings: tuple[str, ...]
    text: str = ""
    pages: int = 1

    def field(self, name: ExtractedFieldName) -> ExtractedField | None:
        return next((f for f in self.fields if f.name is name), None)

    def accepting(self, name: ExtractedFieldName) -> Analysis:
        return replace(self, fields=tuple(replace(f, accepted=True) if f.name is name else f for f in self.fields))

    def to_json(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "analyzedAt": self.analyzed_at.isoformat(),
            "predictedKind": self.predicted_kind.value if self.predicted_kind else None,
            "confidence": self.confidence,
            "fields": [
                {"name": f.name.value, "value": f.value, "confidence": f.confidence, "accepted": f.accepted}
                for f in self.fields
            ],
            "warnings": list(self.warnings),
            "text": self.text,
            "pages": self.pages,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Analysis:
        kind = data.get("predictedKind")
        return cls(
            analyzer=str(data["analyzer"]),
            analyzed_at=datetime.fromisoformat(data["analyzedAt"]),
            predicted_kind=DocumentKind(kind) if kind else None,
            confidence=float(data["confidence"]),
            fields=tuple(
                ExtractedField(
                    ExtractedFieldName(f["name"]), str(f["value"]), float(f["confidence"]), bool(f.get("accepted"))
                )
                for f in data.get("fields", [])
            ),
            warnings=tuple(str(w) for w in data.get("warnings", [])),
            text=str(data.get("text", "")),
            pages=int(data.get("pages", 1)),
        )


@dataclass(frozen=True)
class Advice:
    """What the advice compares the result with: what the document claims to be."""

    declared: DocumentKind
    owner_name: str | None
    today: date
    extra: tuple[str, ...] = field(default=())


def advise(result: AnalyzerResult, advice: Advice, analyzer: str, at: datetime) -> Analysis:
    """The result with the context's warnings: a kind other than the declared one, an expiry
    date passed, no readable text, a name that is not the owner's."""
    warnings = list(result.warnings)
    if not result.text.strip() and "no readable text" not in warnings:
        warnings.append("no readable text")
    if result.kind is not None and result.kind is not advice.declared and result.kind_confidence >= MISMATCH_CONFIDENCE:
        warnings.append(
            f"declared {advice.declared.value}, reads like {_article(result.kind)} ({result.kind_confidence:.2f})"
        )
    for extracted in result.fields:
        if extracted.name is ExtractedFieldName.EXPIRY_DATE:
            try:
                expires = date.fromisoformat(extracted.value)
            except ValueError:
                continue
            if expires < advice.today:
                warnings.append(f"expired on {expires.isoformat()}")
        named = extracted.name is ExtractedFieldName.PERSON_NAME and advice.owner_name
        if named and not same_name(extracted.value, advice.owner_name or ""):
            warnings.append("the name does not match the owner")
    return Analysis(
        analyzer=analyzer,
        analyzed_at=at,
        predicted_kind=result.kind,
        confidence=round(result.kind_confidence, 4),
        fields=result.fields,
        warnings=tuple(warnings),
        text=result.text[:TEXT_KEPT],
        pages=result.pages,
    )


_ARTICLES = {DocumentKind.ID: "an ID", DocumentKind.OTHER: "another kind"}


def _article(kind: DocumentKind) -> str:
    return _ARTICLES.get(kind, f"a {kind.value}")


def _name_words(text: str) -> set[str]:
    return set(_ordered_words(text))


def same_name(read: str, owner: str) -> bool:
    """The name read and the owner's share their words (two at least where both have two;
    order, case and accents aside): a middle name missing on a card is no mismatch."""
    owner_words, read_words = _name_words(owner), _name_words(read)
    if not owner_words or not read_words:
        return True  # nothing to compare
    if len(owner_words & read_words) >= min(2, len(owner_words), len(read_words)):
        return True
    # OCR may have dropped the spaces ("ALICEMARTIN"): the owner's words, in order, joined
    return "".join(_ordered_words(owner)) in "".join(_ordered_words(read))


def _ordered_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [w for w in re.split(r"[^a-z]+", folded) if len(w) > 1]

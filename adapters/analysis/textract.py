"""AWS Textract behind the same port (``ANALYZER=textract``), through aioboto3.

- Images: ``AnalyzeID`` first (identity documents: expiry date, names, document number, each
  with Textract's confidence); a page it finds fields on is an ID.
- Everything: ``DetectDocumentText`` for the text lines (the LINE blocks ``AnalyzeDocument``
  returns too, without the price of its FORMS and TABLES features, which nothing here reads);
  the kind from the text with the same classifier as the embedded analyzer, the fields
  ``AnalyzeID`` did not give from the lines with the same rules.

Textract's synchronous calls take PNG, JPEG and single-page PDFs up to 10 MB; a longer PDF
needs the asynchronous API and an S3 object, which this adapter does not use (a warning says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters.analysis.classifier import KindClassifier
from adapters.analysis.fields import Line, extract, parse_date
from domains.document.analysis import AnalyzerResult, ExtractedField, ExtractedFieldName
from domains.document.model import DocumentKind

IMAGES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class TextractSettings:
    region: str = "us-east-1"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    max_attempts: int = 3
    """Attempts per call (botocore's retries of throttling and server errors)."""


class TextractAnalyzer:
    name = "textract"

    def __init__(self, settings: TextractSettings, classifier: KindClassifier | None = None) -> None:
        self.settings = settings
        credentials: dict[str, Any] = {"region_name": settings.region}
        if settings.access_key_id and settings.secret_access_key:
            credentials["aws_access_key_id"] = settings.access_key_id
            credentials["aws_secret_access_key"] = settings.secret_access_key
        self._session = aioboto3.Session(**credentials)
        self._config = Config(retries={"max_attempts": settings.max_attempts, "mode": "standard"})
        self.classifier = classifier or KindClassifier.from_examples()

    async def analyze(self, content: bytes, content_type: str) -> AnalyzerResult:
        warnings: list[str] = []
        identity: tuple[ExtractedField, ...] = ()
        lines: list[Line] = []
        client = self._session.client("textract", endpoint_url=self.settings.endpoint_url, config=self._config)
        async with client as textract:
            if content_type in IMAGES:
                try:
                    found = await textract.analyze_id(DocumentPages=[{"Bytes": content}])
                    identity = identity_fields(found)
                except ClientError as error:
                    warnings.append(f"Textract AnalyzeID failed ({_code(error)})")
            try:
                found = await textract.detect_document_text(Document={"Bytes": content})
                lines = [
                    Line(str(b.get("Text", "")), float(b.get("Confidence", 0.0)) / 100)
                    for b in found.get("Blocks", [])
                    if b.get("BlockType") == "LINE"
                ]
            except ClientError as error:
                warnings.append(f"Textract DetectDocumentText failed ({_code(error)})")
        text = "\n".join(line.text for line in lines)
        prediction = self.classifier.predict(text) if text.strip() else None
        kind = DocumentKind(prediction.kind) if prediction else None
        confidence = prediction.confidence if prediction else 0.0
        if identity:
            kind, confidence = DocumentKind.ID, max(f.confidence for f in identity)
        named = {f.name for f in identity}
        fields = identity + tuple(f for f in extract(lines) if f.name not in named)
        return AnalyzerResult(text, kind, confidence, fields, tuple(warnings))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "error"))


def identity_fields(response: dict[str, Any]) -> tuple[ExtractedField, ...]:
    """``AnalyzeID``'s normalized fields of its first document, as the port's fields."""
    documents = response.get("IdentityDocuments") or []
    if not documents:
        return ()
    values: dict[str, tuple[str, float]] = {}
    for item in documents[0].get("IdentityDocumentFields", []):
        kind = item.get("Type", {}).get("Text", "")
        detection = item.get("ValueDetection", {})
        text = str(detection.get("NormalizedValue", {}).get("Value") or detection.get("Text") or "")
        if text:
            values[kind] = (text, float(detection.get("Confidence", 0.0)) / 100)
    fields = []
    if "EXPIRATION_DATE" in values:
        text, confidence = values["EXPIRATION_DATE"]
        expires = parse_date(text[:10]) or parse_date(text)
        if expires is not None:
            fields.append(ExtractedField(ExtractedFieldName.EXPIRY_DATE, expires.isoformat(), confidence))
    names = [values[k] for k in ("FIRST_NAME", "MIDDLE_NAME", "LAST_NAME") if k in values]
    if names:
        fields.append(
            ExtractedField(ExtractedFieldName.PERSON_NAME, " ".join(n for n, _ in names), min(c for _, c in names))
        )
    if "DOCUMENT_NUMBER" in values:
        number, confidence = values["DOCUMENT_NUMBER"]
        fields.append(ExtractedField(ExtractedFieldName.DOCUMENT_NUMBER, number, confidence))
    return tuple(fields)

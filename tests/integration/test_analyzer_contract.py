"""One contract for every ``DocumentAnalyzer``: the embedded one (real OCR, pypdf and the
classifier) and the Textract adapter against moto's standalone server.

moto implements ``DetectDocumentText`` (its LINE blocks are set here to the lines the document
shows, as Textract would read them) but not ``AnalyzeID``: against moto that call fails and
the adapter answers from the lines, with a warning; its reading of a real ``AnalyzeID``
answer is checked on one of the documented shape (``identity_fields``). What needs AWS
itself: Textract's OCR, AnalyzeID's field detection, credentials and throttling.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from moto.textract.models import TextractBackend

from adapters.analysis.embedded import EmbeddedAnalyzer
from adapters.analysis.textract import TextractAnalyzer, TextractSettings, identity_fields
from bench.analysis_dataset import image, text_pdf
from domains.document.analysis import DocumentAnalyzer, ExtractedFieldName
from domains.document.model import DocumentKind
from tests.blob_servers import free_port


@dataclass(frozen=True)
class Case:
    name: str
    lines: tuple[str, ...]
    content_type: str
    kind: DocumentKind | None
    fields: dict[ExtractedFieldName, str]

    def content(self) -> bytes:
        if not self.lines:
            return text_pdf([])
        if self.content_type == "application/pdf":
            return text_pdf(list(self.lines))
        buffer = io.BytesIO()
        image(list(self.lines), random.Random(3), photo=False, size=34).save(buffer, "PNG")  # type: ignore[attr-defined]
        return buffer.getvalue()


E = ExtractedFieldName
CASES = [
    Case(
        "id card",
        ("IDENTITY CARD", "Name: Maria Lopez", "Document No: X1234567", "Expiry date: 2027-03-01"),
        "image/png",
        DocumentKind.ID,
        {E.EXPIRY_DATE: "2027-03-01", E.DOCUMENT_NUMBER: "X1234567"},
    ),
    Case(
        "contract",
        (
            "EMPLOYMENT CONTRACT",
            "Employee: John Smith",
            "Salary: 52,000 per year. Probation: 6 months. Notice period: one month.",
            "Signed by the Employer and the Employee",
        ),
        "application/pdf",
        DocumentKind.CONTRACT,
        {E.PERSON_NAME: "John Smith"},
    ),
    Case(
        "tax form",
        ("Form W-4 Employee's Withholding Certificate", "Tax year 2026", "Filing status: single. Allowances: 2"),
        "application/pdf",
        DocumentKind.TAX_FORM,
        {},
    ),
    Case("blank page", (), "application/pdf", None, {}),
]


@pytest.fixture(scope="module")
def moto_textract() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        TextractBackend.BLOCKS = []


@pytest.fixture(params=["embedded", "textract"])
def analyzer_for(request: pytest.FixtureRequest) -> Any:
    if request.param == "embedded":
        embedded = EmbeddedAnalyzer()
        return lambda case: embedded
    endpoint = request.getfixturevalue("moto_textract")
    settings = TextractSettings(endpoint_url=endpoint, access_key_id="test", secret_access_key="test", max_attempts=1)
    textract = TextractAnalyzer(settings)

    def prepared(case: Case) -> DocumentAnalyzer:
        # what Textract would read from the page: its lines (moto answers with these blocks)
        TextractBackend.BLOCKS = [{"BlockType": "LINE", "Text": line, "Confidence": 99.0} for line in case.lines]
        return textract

    return prepared


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_an_analyzer_reads_kind_and_fields(analyzer_for: Any, case: Case) -> None:
    analyzer: DocumentAnalyzer = analyzer_for(case)
    result = await analyzer.analyze(case.content(), case.content_type)
    assert result.kind == case.kind
    if case.kind is None:
        assert result.text.strip() == "" and result.kind_confidence == 0.0
    else:
        assert 0.5 <= result.kind_confidence <= 1.0
    found = {f.name: f.value for f in result.fields}
    for name, value in case.fields.items():
        assert found.get(name, "").replace(" ", "").lower() == value.replace(" ", "").lower(), result
    assert all(0.0 < f.confidence <= 1.0 for f in result.fields)


async def test_a_file_that_is_not_what_it_claims_is_advice_not_a_failure() -> None:
    result = await EmbeddedAnalyzer().analyze(b"%PDF-1.4 this is no PDF", "application/pdf")
    assert result.kind is None and result.warnings and result.warnings[0].startswith("the file could not be read")


def test_analyze_id_answers_become_the_ports_fields() -> None:
    """The documented shape of an AnalyzeID answer (what moto cannot produce)."""

    def field(kind: str, text: str, normalized: str | None = None, confidence: float = 98.5) -> dict[str, Any]:
        detection: dict[str, Any] = {"Text": text, "Confidence": confidence}
        if normalized:
            detection["NormalizedValue"] = {"Value": normalized, "ValueType": "Date"}
        return {"Type": {"Text": kind}, "ValueDetection": detection}

    answer = {
        "IdentityDocuments": [
            {
                "DocumentIndex": 1,
                "IdentityDocumentFields": [
                    field("FIRST_NAME", "MARIA"),
                    field("LAST_NAME", "LOPEZ", confidence=97.0),
                    field("DOCUMENT_NUMBER", "X1234567"),
                    field("EXPIRATION_DATE", "01 MAR 2027", "2027-03-01T00:00:00"),
                    field("DATE_OF_BIRTH", "12 APR 1990", "1990-04-12T00:00:00"),
                ],
            }
        ]
    }
    fields = {f.name: (f.value, f.confidence) for f in identity_fields(answer)}
    assert fields == {
        E.EXPIRY_DATE: (date(2027, 3, 1).isoformat(), 0.985),
        E.PERSON_NAME: ("MARIA LOPEZ", 0.97),
        E.DOCUMENT_NUMBER: ("X1234567", 0.985),
    }
    assert identity_fields({"IdentityDocuments": []}) == ()

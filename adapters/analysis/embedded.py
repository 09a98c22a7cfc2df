"""The embedded analyzer: offline, on the CPU, from what the wheels ship.

- PDF: the text layer with pypdf; a page without one (a scan) has its images read by OCR.
- PNG and JPEG: OCR with rapidocr-onnxruntime (its detection and recognition models are in
  its wheel; nothing is downloaded).
- The kind: ``KindClassifier`` over the text; the fields: ``fields.extract`` over its lines.

Everything heavy is imported on the first file, in a worker thread (OCR holds the CPU for a
second or two), and the OCR engine is built once per process.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from typing import Any

from adapters.analysis.classifier import KindClassifier
from adapters.analysis.fields import Line, extract
from domains.document.analysis import AnalyzerResult
from domains.document.model import DocumentKind

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
MAX_PAGES = 20
"""Pages read of one PDF (the first ones: enough to tell what it is)."""


class EmbeddedAnalyzer:
    name = "embedded"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ocr: Any = None
        self._classifier: KindClassifier | None = None

    async def analyze(self, content: bytes, content_type: str) -> AnalyzerResult:
        return await asyncio.to_thread(self.analyze_now, content, content_type)

    def analyze_now(self, content: bytes, content_type: str) -> AnalyzerResult:
        warnings: list[str] = []
        pages = 1
        try:
            if content_type == PDF:
                lines, pages = self._pdf_lines(content)
            elif content_type in (PNG, JPEG):
                lines = self._image_lines(content)
            else:
                lines, warnings = [], [f"cannot read a file of type {content_type}"]
        except Exception as error:  # a damaged file is advice, not a failed job
            lines, warnings = [], [f"the file could not be read ({type(error).__name__})"]
        text = "\n".join(line.text for line in lines)
        prediction = self.classifier.predict(text) if text.strip() else None
        return AnalyzerResult(
            text=text,
            kind=DocumentKind(prediction.kind) if prediction else None,
            kind_confidence=prediction.confidence if prediction else 0.0,
            fields=extract(lines),
            warnings=tuple(warnings),
            pages=pages,
        )

    @property
    def classifier(self) -> KindClassifier:
        with self._lock:
            if self._classifier is None:
                self._classifier = KindClassifier.from_examples()
            return self._classifier

    def _engine(self) -> Any:
        with self._lock:
            if self._ocr is None:
                from rapidocr_onnxruntime import RapidOCR

                self._ocr = RapidOCR()
            return self._ocr

    def _pdf_lines(self, content: bytes) -> tuple[list[Line], int]:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(content))
        lines: list[Line] = []
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            page_lines = [Line(t.strip()) for t in text.splitlines() if t.strip()]
            if not page_lines:  # a scanned page: read its pictures
                for image in page.images:
                    page_lines.extend(self._image_lines(image.data))
            lines.extend(page_lines)
        return lines, len(reader.pages)

    def _image_lines(self, content: bytes) -> list[Line]:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # OpenCV's BGR
        found, _ = self._engine()(pixels)
        return lines_of(found or [])


def lines_of(boxes: Sequence[Any]) -> list[Line]:
    """OCR's word boxes as lines, top to bottom: boxes whose middles lie within half a box's
    height of each other are one line, read left to right."""
    items = []
    for box, text, score in boxes:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), str(text), float(score)))
    items.sort()
    rows: list[list[tuple[float, float, float, str, float]]] = []
    for item in items:
        if rows and abs(item[0] - rows[-1][0][0]) <= max(rows[-1][0][1], item[1]) / 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    lines = []
    for row in rows:
        row.sort(key=lambda i: i[2])
        lines.append(Line(" ".join(i[3] for i in row), min(i[4] for i in row)))
    return lines

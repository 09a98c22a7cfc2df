"""Fields read from a document's lines: an expiry date, a person's name, a document number.

Each is found next to its label (``Date of expiry``, ``Valid until``, ``Name``, ``Document
No`` ...) on the same line or the next one; its confidence is the label's certainty times the
line's (OCR's score for its words, 1 for a PDF's text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domains.document.analysis import ExtractedField, ExtractedFieldName


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float = 1.0


MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {m: i + 1 for i, m in enumerate(MONTH_NAMES)}
_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DMY = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b")
_D_MON_Y = re.compile(r"\b(\d{1,2})\s*([A-Za-z]{3})[A-Za-z]*\.?\s*(\d{4})\b")
_MON_D_Y = re.compile(r"\b([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b")

EXPIRY_LABELS = re.compile(
    r"(date\s*of\s*expiry|expiry\s*date|expir\w*|valid\s*(until|thru|through|to)|gu?ltig\s*bis|renewal\s*date)",
    re.IGNORECASE,
)
NAME_LABELS = re.compile(
    r"^\s*(full\s*name|name\s*of\s*(the\s*)?(holder|employee|taxpayer)|holder|employee|name|awarded\s*to|"
    r"presented\s*to|certified\s*operator\s*name|candidate\s*name)\s*[:.]?\s*",
    re.IGNORECASE,
)
CERTIFY_NAME = re.compile(r"certif(y|ies)\s+that\s+([A-Z][A-Za-z'-]+(?:\s+[A-Z][A-Za-z'-]+){1,3})")
NUMBER_LABELS = re.compile(
    r"(document\s*(no|number|nr)|card\s*(no|number)|passport\s*(no|number)|licen[cs]e\s*(no|number)|"
    r"certificate\s*(no|number|id)|credential\s*id|id\s*(no|number)|permit\s*(no|number)|visa\s*number)"
    r"\s*[:.#]?\s*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b([A-Z0-9][A-Z0-9-]{4,19})\b")


def parse_date(text: str) -> date | None:
    for pattern, order in ((_ISO, "ymd"), (_DMY, "dmy"), (_D_MON_Y, "dMy"), (_MON_D_Y, "Mdy")):
        for match in pattern.finditer(text):
            try:
                a, b, c = match.groups()
                if order == "ymd":
                    return date(int(a), int(b), int(c))
                if order == "dmy":
                    return date(int(c), int(b), int(a))
                if order == "dMy":
                    month = MONTHS.get(b[:3].lower())
                    if month:
                        return date(int(c), month, int(a))
                if order == "Mdy":
                    month = MONTHS.get(a[:3].lower())
                    if month:
                        return date(int(c), month, int(b))
            except ValueError:
                continue
    return None


def extract(lines: Sequence[Line]) -> tuple[ExtractedField, ...]:
    found: dict[ExtractedFieldName, ExtractedField] = {}

    def keep(name: ExtractedFieldName, value: str, confidence: float) -> None:
        current = found.get(name)
        if current is None or confidence > current.confidence:
            found[name] = ExtractedField(name, value, round(confidence, 4))

    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else None
        label = EXPIRY_LABELS.search(line.text)
        if label:
            same = parse_date(line.text[label.end() :])
            if same is not None:
                keep(ExtractedFieldName.EXPIRY_DATE, same.isoformat(), 0.95 * line.confidence)
            elif following is not None and (later := parse_date(following.text)) is not None:
                keep(ExtractedFieldName.EXPIRY_DATE, later.isoformat(), 0.8 * following.confidence)
        name = NAME_LABELS.match(line.text)
        if name and not EXPIRY_LABELS.search(line.text):
            value = _name(line.text[name.end() :])
            if value:
                keep(ExtractedFieldName.PERSON_NAME, value, 0.9 * line.confidence)
            elif following is not None and (value := _name(following.text)):
                keep(ExtractedFieldName.PERSON_NAME, value, 0.75 * following.confidence)
        certify = CERTIFY_NAME.search(line.text)
        if certify:
            keep(ExtractedFieldName.PERSON_NAME, certify.group(2), 0.8 * line.confidence)
        number = NUMBER_LABELS.search(line.text)
        if number:
            value = _number(line.text[number.end() :])
            if value:
                keep(ExtractedFieldName.DOCUMENT_NUMBER, value, 0.9 * line.confidence)
            elif following is not None and (value := _number(following.text)):
                keep(ExtractedFieldName.DOCUMENT_NUMBER, value, 0.75 * following.confidence)
    return tuple(found[n] for n in ExtractedFieldName if n in found)


def _name(text: str) -> str | None:
    """A name of two to five words; OCR often drops the spaces of a line ("OmarHolm"): a
    mixed-case run is split where a capital follows a small letter, and one upper-case run
    ("NORAHADDAD") is kept whole (``same_name`` compares names without their spaces)."""
    words = [w for w in re.split(r"\s+", text.strip(" :.,")) if w]
    if len(words) == 1:
        words = re.sub(r"(?<=[a-zà-ÿ])(?=[A-Z])", " ", words[0]).split()
        if len(words) == 1 and len(words[0]) >= 6 and words[0].isalpha() and words[0].isupper():
            return words[0]
    letters = [w for w in words if re.fullmatch(r"[A-Za-zÀ-ÿ'-]+", w)]
    if not 1 < len(letters) <= 5 or len(letters) != len(words):
        return None
    return " ".join(letters)


def _number(text: str) -> str | None:
    for match in _NUMBER.finditer(text.upper()):
        if any(ch.isdigit() for ch in match.group(1)):
            return match.group(1)
    return None

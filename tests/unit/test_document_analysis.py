"""The analysis advises (warnings from what a file read) and people decide: the expiry rules
on the entity. Pure domain, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from domains.document.analysis import (
    Advice,
    Analysis,
    AnalyzerResult,
    ExtractedField,
    ExtractedFieldName,
    advise,
    same_name,
)
from domains.document.model import Document, DocumentKind, DocumentStatus
from domains.kernel.errors import Forbidden, Invalid, InvalidTransition
from domains.kernel.principal import Principal, Role

E, K, S = ExtractedFieldName, DocumentKind, DocumentStatus
AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
COMPANY = uuid.uuid4()
HR = Principal(uuid.uuid4(), COMPANY, frozenset({Role.HR}))
OWNER = Principal(uuid.uuid4(), COMPANY, frozenset({Role.EMPLOYEE}))


def result(kind: DocumentKind | None, confidence: float, *fields: ExtractedField, text: str = "text") -> AnalyzerResult:
    return AnalyzerResult(text=text, kind=kind, kind_confidence=confidence, fields=fields)


def warnings(
    read: AnalyzerResult, declared: DocumentKind = K.CONTRACT, owner: str | None = "Alice Martin"
) -> list[str]:
    return list(advise(read, Advice(declared, owner, AT.date()), "test", AT).warnings)


def test_a_kind_other_than_the_declared_one_is_a_warning_from_its_confidence_on() -> None:
    assert warnings(result(K.ID, 0.912)) == ["declared CONTRACT, reads like an ID (0.91)"]
    assert warnings(result(K.TAX_FORM, 0.8)) == ["declared CONTRACT, reads like a TAX_FORM (0.80)"]
    assert warnings(result(K.ID, 0.59)) == []  # not sure enough to say
    assert warnings(result(K.CONTRACT, 0.99)) == []


def test_an_expiry_date_passed_no_text_and_another_name_are_warnings() -> None:
    expired = ExtractedField(E.EXPIRY_DATE, "2025-03-01", 0.9)
    assert warnings(result(K.ID, 0.95, expired), K.ID) == ["expired on 2025-03-01"]
    assert warnings(result(K.ID, 0.95, ExtractedField(E.EXPIRY_DATE, "2026-03-10", 0.9)), K.ID) == []
    assert warnings(result(None, 0.0, text="  "), K.ID) == ["no readable text"]
    bob = ExtractedField(E.PERSON_NAME, "Bob Okafor", 0.9)
    assert warnings(result(K.ID, 0.95, bob), K.ID) == ["the name does not match the owner"]
    assert warnings(result(K.ID, 0.95, bob), K.ID, owner=None) == []


@pytest.mark.parametrize(
    ("read", "owner", "same"),
    [
        ("ALICE MARTIN", "Alice Martin", True),
        ("ALICEMARTIN", "Alice Martin", True),  # OCR dropped the space
        ("Martin Alice", "Alice Martin", True),
        ("Alice Marie Martin", "Alice Martin", True),
        ("José Núñez", "Jose Nunez", True),
        ("Alice Smith", "Alice Martin", False),
        ("Bob Okafor", "Alice Martin", False),
    ],
)
def test_names_compare_without_case_accents_order_or_spaces(read: str, owner: str, same: bool) -> None:
    assert same_name(read, owner) is same


def test_an_analysis_round_trips_through_json_and_accepting_marks_one_field() -> None:
    stored = advise(
        result(K.ID, 0.9, ExtractedField(E.EXPIRY_DATE, "2027-01-01", 0.8)), Advice(K.ID, None, AT.date()), "t", AT
    )
    assert Analysis.from_json(stored.to_json()) == stored
    accepted = stored.accepting(E.EXPIRY_DATE)
    assert [f.accepted for f in accepted.fields] == [True] and stored.fields[0].accepted is False


def card(status: DocumentStatus = S.APPROVED, kind: DocumentKind = K.ID) -> Document:
    return Document(company_id=COMPANY, owner_id=OWNER.user_id, title="ID card", kind=kind, status=status)


def test_only_hr_accepts_an_expiry_and_only_for_a_kind_that_expires() -> None:
    document = card()
    with pytest.raises(Forbidden):
        document.accept_expiry(date(2027, 1, 1), OWNER)
    with pytest.raises(Invalid):
        card(kind=K.CONTRACT).accept_expiry(date(2027, 1, 1), HR)
    document.accept_expiry(date(2027, 1, 1), HR)
    assert document.expires_on == date(2027, 1, 1) and document.status is S.APPROVED  # no move


def test_a_document_expires_on_its_day_with_its_event_and_not_before() -> None:
    document = card()
    document.expires_on = date(2026, 3, 11)
    assert not document.is_due_to_expire(AT.date())
    with pytest.raises(Invalid):
        document.expire(HR, AT)
    document.expires_on = AT.date()
    assert document.is_due_to_expire(AT.date())
    document.expire(HR, AT)
    (event,) = document.take_events()
    assert document.status is S.EXPIRED and event.type == "DocumentExpired"
    assert event.payload["previousStatus"] == "APPROVED"
    assert document.frozen_because() is not None


def test_a_requested_document_has_nothing_to_expire() -> None:
    document = card(S.REQUESTED)
    document.expires_on = AT.date()
    assert not document.is_due_to_expire(AT.date())
    with pytest.raises(InvalidTransition):
        document.expire(HR, AT)

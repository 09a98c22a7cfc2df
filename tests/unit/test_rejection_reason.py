"""A rejected document keeps HR's reason (the web app shows it to the owner) until a new file
is confirmed; a refused rejection leaves no reason behind."""

from __future__ import annotations

import pytest

from domains.document.model import DocumentStatus
from domains.kernel.errors import Forbidden, Invalid
from tests.unit.conftest import World, make_document, principal_of
from tests.unit.test_documents import AT, PDF_FILE, SEALED, UNTIL, stored

S = DocumentStatus


def test_the_reason_stays_until_a_new_file_is_confirmed(world: World) -> None:
    alice, hr = principal_of(world.alice), principal_of(world.hr)
    doc = make_document(world.alice, "Contract", S.IN_REVIEW, file_version=1)
    assert doc.rejection_reason is None
    doc.reject("  not signed on page 2  ", hr, AT)
    assert doc.rejection_reason == "not signed on page 2"
    doc.request_upload(PDF_FILE, alice, UNTIL)
    assert doc.rejection_reason == "not signed on page 2"  # still the answer while she uploads
    doc.confirm_upload(stored(), SEALED, alice, AT)
    assert doc.rejection_reason is None and doc.status is S.UPLOADED


def test_a_refused_rejection_records_no_reason(world: World) -> None:
    doc = make_document(world.alice, "Contract", S.IN_REVIEW, file_version=1)
    with pytest.raises(Invalid):
        doc.reject("   ", principal_of(world.hr), AT)
    with pytest.raises(Forbidden):
        doc.reject("mine", principal_of(world.alice), AT)
    assert doc.rejection_reason is None and doc.status is S.IN_REVIEW

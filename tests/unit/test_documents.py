"""A document's rules on the entity and in the generic update: the state machine, who may make
each move, which fields each role may edit, and that an approved document is frozen."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.document.model import (
    TRANSITIONS,
    DeclaredFile,
    Document,
    DocumentCommand,
    DocumentKind,
    DocumentStatus,
    StoredFile,
    download_name,
)
from domains.document.spec import DOCUMENT
from domains.kernel.errors import Forbidden, Invalid, InvalidTransition
from domains.kernel.principal import Principal, Role
from tests.unit.conftest import World, make_document, principal_of

S = DocumentStatus
C = DocumentCommand
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
UNTIL = AT + timedelta(minutes=10)
PDF = b"%PDF-1.7\n" + b"x" * 91
PDF_FILE = DeclaredFile("contract.pdf", "application/pdf", 100)
SEALED = "where/the/store/sealed/it"


def stored(data: bytes = PDF, content_type: str = "application/pdf") -> StoredFile:
    return StoredFile(size_bytes=len(data), content_type=content_type, sha256="0" * 64, head=data[:16], stored_at=AT)


def with_status(world: World, status: DocumentStatus, **extra: object) -> Document:
    doc = make_document(world.alice, f"In {status.value}", status, **extra)
    world.store.add(DOCUMENT, doc)
    return doc


# ---- the state machine -------------------------------------------------------------------


def test_the_declared_moves() -> None:
    assert {
        S.REQUESTED: {S.UPLOADED},
        S.UPLOADED: {S.IN_REVIEW, S.EXPIRED},
        S.IN_REVIEW: {S.APPROVED, S.REJECTED, S.EXPIRED},
        S.REJECTED: {S.UPLOADED, S.EXPIRED},
        S.APPROVED: {S.EXPIRED},
        S.EXPIRED: set(),
    } == TRANSITIONS


@pytest.mark.parametrize("current", list(S))
def test_every_other_move_is_an_invalid_transition_even_for_an_admin(current: DocumentStatus) -> None:
    admin = Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.ADMIN}))
    commands = {
        S.IN_REVIEW: lambda d: d.submit(admin, AT),
        S.APPROVED: lambda d: d.approve(admin, AT),
        S.REJECTED: lambda d: d.reject("blurry", admin, AT),
    }
    for target, command in commands.items():
        doc = Document(company_id=uuid.uuid4(), owner_id=uuid.uuid4(), title="t", kind=DocumentKind.ID, status=current)
        if target in TRANSITIONS[current]:
            command(doc)
            (event,) = doc.take_events()
            assert doc.status is target and event.payload["previousStatus"] == current.value
        else:
            with pytest.raises(InvalidTransition) as caught:
                command(doc)
            assert (caught.value.current, caught.value.target) == (current.value, target.value)
            assert doc.status is current


def test_upload_then_review_then_approval(world: World) -> None:
    alice, hr = principal_of(world.alice), principal_of(world.hr)
    doc = make_document(world.alice, "Contract")
    doc.request_upload(PDF_FILE, alice, UNTIL)
    assert doc.status is S.REQUESTED and doc.pending == PDF_FILE
    assert doc.available_commands(alice) == [C.REQUEST_UPLOAD, C.CONFIRM_UPLOAD]
    file = doc.confirm_upload(stored(), SEALED, alice, AT)
    (uploaded,) = doc.take_events()
    assert (doc.status, doc.file_version, doc.pending) == (S.UPLOADED, 1, None)
    assert (file.version, file.object_key, file.size_bytes, file.uploaded_by) == (
        1,
        SEALED,
        len(PDF),
        world.alice.id,
    )
    assert uploaded.type == "DocumentUploaded"
    assert doc.available_commands(alice) == [C.SUBMIT]
    doc.submit(alice, AT)
    assert [e.type for e in doc.take_events()] == ["DocumentSubmitted"]
    assert doc.available_commands(alice) == []
    assert doc.available_commands(hr) == [C.APPROVE, C.REJECT]
    doc.approve(hr, AT)
    (approved,) = doc.take_events()
    assert approved.type == "DocumentApproved" and doc.status is S.APPROVED
    assert approved.payload == {
        "documentId": str(doc.id),
        "ownerId": str(world.alice.id),
        "companyId": str(world.acme.id),
        "kind": "CONTRACT",
        "status": "APPROVED",
        "previousStatus": "IN_REVIEW",
        "actorId": str(world.hr.id),
        "occurredAt": AT.isoformat(),
        "reason": None,
        "fileVersion": 1,
    }
    assert (approved.company_id, approved.actor_id, approved.occurred_at) == (world.acme.id, world.hr.id, AT)


def test_a_rejected_document_takes_a_new_file_version(world: World) -> None:
    alice, hr = principal_of(world.alice), principal_of(world.hr)
    doc = make_document(world.alice, "Contract", S.IN_REVIEW, file_version=1)
    doc.reject("  unsigned  ", hr, AT)
    (rejected,) = doc.take_events()
    assert rejected.payload["reason"] == "unsigned" and doc.status is S.REJECTED
    assert doc.available_commands(alice) == [C.REQUEST_UPLOAD]
    doc.request_upload(PDF_FILE, alice, UNTIL)
    assert doc.upload_key == f"uploads/{doc.company_id}/{doc.owner_id}/{doc.id}/v2-20260102T031405000000Z"
    assert doc.sealed_key("abc") == f"{doc.company_id}/{doc.owner_id}/{doc.id}/v2-abc"
    file = doc.confirm_upload(stored(), SEALED, alice, AT)
    assert (file.version, doc.file_version, doc.status) == (2, 2, S.UPLOADED)


def test_only_hr_of_the_company_or_an_admin_reviews(world: World) -> None:
    doc = make_document(world.alice, "Contract", S.IN_REVIEW)
    for who in (world.alice, world.bob, world.globex_hr):
        with pytest.raises(Forbidden):
            doc.approve(principal_of(who), AT)
        assert doc.available_commands(principal_of(who)) == []
    assert doc.status is S.IN_REVIEW
    doc.reject("wrong file", principal_of(world.admin), AT)
    assert doc.status is S.REJECTED


@pytest.mark.parametrize("role", [Role.HR, Role.ADMIN])
def test_no_one_reviews_a_document_she_owns(world: World, role: Role) -> None:
    """Separation of duties: HR (or an ADMIN) handing in her own document may upload and submit
    it as anyone may, but its review is someone else's."""
    owner = world.hr if role is Role.HR else world.admin
    me = principal_of(owner)
    doc = make_document(owner, "My own contract")
    doc.request_upload(PDF_FILE, me, UNTIL)
    doc.confirm_upload(stored(), SEALED, me, AT)
    doc.submit(me, AT)
    assert doc.available_commands(me) == []
    for review in (lambda: doc.approve(me, AT), lambda: doc.reject("fine by me", me, AT)):
        with pytest.raises(Forbidden) as refused:
            review()
        assert "no one reviews a document she owns" in refused.value.message
    assert doc.status is S.IN_REVIEW
    other = principal_of(world.admin if role is Role.HR else world.hr)
    assert doc.available_commands(other) == [C.APPROVE, C.REJECT]
    doc.approve(other, AT)
    assert doc.take_events()[-1].actor_id == other.user_id and doc.status is S.APPROVED
    with pytest.raises(InvalidTransition):  # an impossible move is that first, whoever asks
        doc.approve(me, AT)


def test_a_rejection_needs_a_reason(world: World) -> None:
    doc = make_document(world.alice, "Contract", S.IN_REVIEW)
    with pytest.raises(Invalid) as caught:
        doc.reject("   ", principal_of(world.hr), AT)
    assert caught.value.problems == {("reason",): ["must not be blank"]}
    assert doc.status is S.IN_REVIEW


def test_someone_elses_document_cannot_be_submitted(world: World) -> None:
    doc = make_document(world.alice, "Contract", S.UPLOADED)
    with pytest.raises(Forbidden):
        doc.submit(principal_of(world.bob), AT)
    assert doc.status is S.UPLOADED


# ---- files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "declared, field",
    [
        (DeclaredFile("id.gif", "image/gif", 10), "content_type"),
        (DeclaredFile("huge.pdf", "application/pdf", 6 * 1024 * 1024), "size_bytes"),
        (DeclaredFile("empty.pdf", "application/pdf", 0), "size_bytes"),
        (DeclaredFile("../etc/passwd", "application/pdf", 10), "file_name"),
    ],
)
def test_each_kind_declares_its_types_and_size(world: World, declared: DeclaredFile, field: str) -> None:
    doc = Document(company_id=world.acme.id, owner_id=world.alice.id, title="ID", kind=DocumentKind.ID)
    with pytest.raises(Invalid) as caught:
        doc.request_upload(declared, principal_of(world.alice), UNTIL)
    assert list(caught.value.problems) == [(field,)]
    assert doc.pending is None


@pytest.mark.parametrize(
    "found, message",
    [
        (None, "no uploaded file was found"),
        (stored(PDF + b"more"), "more than the 100 declared"),
        (stored(PDF, "image/png"), "not the declared application/pdf"),
        (stored(b"MZ\x90\x00" + b"x" * 96), "does not look like application/pdf"),
        (stored(b""), "is empty"),
        (
            dataclasses.replace(stored(), stored_at=UNTIL + timedelta(minutes=6)),
            "stored after its upload ticket expired",
        ),
    ],
)
def test_a_stored_object_that_breaks_its_ticket_is_refused(
    world: World, found: StoredFile | None, message: str
) -> None:
    doc = make_document(world.alice, "Contract")
    doc.request_upload(PDF_FILE, principal_of(world.alice), UNTIL)
    with pytest.raises(Invalid) as caught:
        doc.confirm_upload(found, SEALED, principal_of(world.alice), AT)
    assert message in str(caught.value)
    assert (doc.status, doc.file_version, doc.pending, doc.pending_expires_at) == (S.REQUESTED, 0, PDF_FILE, UNTIL)


@pytest.mark.parametrize(
    "content_type, head",
    [("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff\xe0")],
)
def test_magic_bytes_of_images(world: World, content_type: str, head: bytes) -> None:
    doc = Document(company_id=world.acme.id, owner_id=world.alice.id, title="ID", kind=DocumentKind.ID)
    alice = principal_of(world.alice)
    doc.request_upload(DeclaredFile("id", content_type, 100), alice, UNTIL)
    with pytest.raises(Invalid):
        doc.confirm_upload(stored(PDF, content_type), SEALED, alice, AT)
    doc.confirm_upload(stored(head + b"x" * 50, content_type), SEALED, alice, AT)
    assert doc.status is S.UPLOADED


def test_no_confirm_without_a_ticket(world: World) -> None:
    doc = make_document(world.alice, "Contract")
    with pytest.raises(InvalidTransition):
        doc.confirm_upload(stored(), SEALED, principal_of(world.alice), AT)


def test_each_ticket_uploads_to_its_own_key_and_none_reaches_a_sealed_one(world: World) -> None:
    alice = principal_of(world.alice)
    doc = make_document(world.alice, "Contract")
    doc.request_upload(PDF_FILE, alice, UNTIL)
    first = doc.upload_key
    doc.request_upload(PDF_FILE, alice, UNTIL + timedelta(microseconds=1))
    assert first is not None and doc.upload_key is not None and first != doc.upload_key
    assert not doc.sealed_key("x").startswith("uploads/") and doc.upload_key.startswith("uploads/")
    doc.confirm_upload(stored(), doc.sealed_key("x"), alice, AT)
    assert doc.upload_key is None


@pytest.mark.parametrize(
    "name, content_type, downloaded",
    [
        ("contract.html", "application/pdf", "contract.pdf"),
        ("Offer Letter.PDF", "application/pdf", "Offer Letter.PDF"),
        ("scan", "image/jpeg", "scan.jpg"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("id.pdf.svg", "image/png", "id.pdf.png"),
        (".htaccess", "image/png", ".htaccess.png"),
        ("data.xml", "application/octet-stream", "data.bin"),
    ],
)
def test_the_download_name_follows_the_stored_type(name: str, content_type: str, downloaded: str) -> None:
    assert download_name(name, content_type) == downloaded


# ---- the generic update: write rights and frozen documents -----------------------------------


@pytest.mark.parametrize(
    "change",
    [{"due_on": date(2030, 1, 1)}, {"kind": DocumentKind.ID}, {"owner_id": "bob"}],
)
async def test_an_employee_may_not_change_due_date_kind_or_owner(world: World, change: dict[str, object]) -> None:
    if change.get("owner_id") == "bob":
        change = {"owner_id": world.bob.id}
    with pytest.raises(Forbidden) as caught:
        await world.documents.update(world.as_(world.alice), world.alice_doc.id, change, 1)
    spelled = {"due_on": "dueOn", "kind": "kind", "owner_id": "ownerId"}[next(iter(change))]  # as GraphQL spells it
    assert caught.value.message == f"you may not change {spelled} of this Document"
    assert world.store.stored(DOCUMENT, world.alice_doc.id).version == 1


async def test_an_employee_may_edit_her_note_and_title_and_resend_unchanged_fields(world: World) -> None:
    change = {"note": "signed", "title": "My contract", "kind": world.alice_doc.kind, "due_on": None}
    updated = await world.documents.update(world.as_(world.alice), world.alice_doc.id, change, 1)
    assert (updated.note, updated.title, updated.version) == ("signed", "My contract", 2)


async def test_hr_may_move_the_due_date(world: World) -> None:
    change = {"due_on": date(2030, 1, 1), "kind": DocumentKind.ID}
    updated = await world.documents.update(world.as_(world.hr), world.alice_doc.id, change, 1)
    assert (updated.due_on, updated.kind) == (date(2030, 1, 1), DocumentKind.ID)


@pytest.mark.parametrize("who", ["alice", "hr", "admin"])
async def test_nobody_edits_an_approved_document(world: World, who: str) -> None:
    doc = with_status(world, S.APPROVED)
    with pytest.raises(Forbidden) as caught:
        await world.documents.update(world.as_(getattr(world, who)), doc.id, {"note": "scanned twice"}, 1)
    assert "approved" in caught.value.message
    assert world.store.stored(DOCUMENT, doc.id).note is None


async def test_status_and_files_are_not_generic_input(world: World) -> None:
    for name in ("status", "file_version", "pending_file_name"):
        with pytest.raises(Invalid) as caught:
            await world.documents.update(world.as_(world.admin), world.alice_doc.id, {name: None}, 1)
        assert caught.value.problems == {(name,): ["cannot be set on update"]}


async def test_awaiting_review_query(world: World) -> None:
    uploaded, in_review = with_status(world, S.UPLOADED), with_status(world, S.IN_REVIEW)
    with_status(world, S.APPROVED)
    page = await world.documents.list_named(world.as_(world.hr), "documents_awaiting_review")
    assert {d.id for d in page.items} == {uploaded.id, in_review.id}


# ---- any sequence of commands ---------------------------------------------------------------

COMMAND_NAMES = ("request", "confirm", "submit", "approve", "reject")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(COMMAND_NAMES), st.sampled_from(("owner", "hr", "stranger"))), max_size=12),
    st.sampled_from((Role.EMPLOYEE, Role.HR, Role.ADMIN)),
)
def test_any_sequence_of_commands_keeps_to_the_declared_moves(steps: list[tuple[str, str]], owner_role: Role) -> None:
    """Whatever is asked, by whoever (the owner an employee, HR or an ADMIN): a command either
    makes a declared move (and says so in its event) or raises and changes nothing;
    availableTransitions predicts which."""
    company = uuid.uuid4()
    people = {
        "owner": Principal(uuid.uuid4(), company, frozenset({owner_role})),
        "hr": Principal(uuid.uuid4(), company, frozenset({Role.HR})),
        "stranger": Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR})),
    }
    doc = Document(company_id=company, owner_id=people["owner"].user_id, title="t", kind=DocumentKind.CONTRACT)
    run = {
        "request": (C.REQUEST_UPLOAD, lambda by: doc.request_upload(PDF_FILE, by, UNTIL)),
        "confirm": (C.CONFIRM_UPLOAD, lambda by: doc.confirm_upload(stored(), SEALED, by, AT)),
        "submit": (C.SUBMIT, lambda by: doc.submit(by, AT)),
        "approve": (C.APPROVE, lambda by: doc.approve(by, AT)),
        "reject": (C.REJECT, lambda by: doc.reject("no", by, AT)),
    }
    for name, who in steps:
        command, act = run[name]
        by = people[who]
        before = (doc.status, doc.file_version, doc.pending)
        available = command in doc.available_commands(by)
        try:
            act(by)
        except (InvalidTransition, Forbidden):
            assert not available
            assert (doc.status, doc.file_version, doc.pending) == before
            continue
        assert available
        assert doc.status is before[0] or doc.status in TRANSITIONS[before[0]]

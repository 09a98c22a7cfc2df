"""A document's review: which status may follow which, and who may make the move."""

from __future__ import annotations

import uuid

import pytest

from domains.document.model import TRANSITIONS, Document, DocumentKind, DocumentStatus
from domains.document.spec import DOCUMENT
from domains.kernel.errors import Forbidden, InvalidTransition
from domains.kernel.principal import Principal, Role
from tests.unit.conftest import World, make_document

S = DocumentStatus


def with_status(world: World, status: DocumentStatus) -> Document:
    doc = make_document(world.alice, f"In {status.value}", status)
    world.store.add(DOCUMENT, doc)
    return doc


async def move(world: World, who: str, doc: Document, target: DocumentStatus) -> Document:
    return await world.documents.update(world.as_(getattr(world, who)), doc.id, {"status": target}, doc.version)


async def test_owner_hands_in_a_requested_document(world: World) -> None:
    uploaded = await move(world, "alice", world.alice_doc, S.UPLOADED)
    assert (uploaded.status, uploaded.version) == (S.UPLOADED, 2)
    assert world.store.stored(DOCUMENT, world.alice_doc.id).status is S.UPLOADED


async def test_skipping_the_review_is_an_invalid_transition(world: World) -> None:
    doc = with_status(world, S.UPLOADED)
    with pytest.raises(InvalidTransition) as caught:
        await move(world, "hr", doc, S.APPROVED)
    assert (caught.value.current, caught.value.target) == ("UPLOADED", "APPROVED")
    assert caught.value.code == "INVALID_TRANSITION"
    assert world.store.stored(DOCUMENT, doc.id).status is S.UPLOADED


@pytest.mark.parametrize("target", [S.APPROVED, S.REJECTED])
async def test_only_hr_reviews(world: World, target: DocumentStatus) -> None:
    doc = with_status(world, S.IN_REVIEW)
    with pytest.raises(Forbidden):
        await move(world, "alice", doc, target)
    assert world.store.stored(DOCUMENT, doc.id).status is S.IN_REVIEW
    assert (await move(world, "hr", doc, target)).status is target


async def test_employee_cannot_put_their_document_in_review(world: World) -> None:
    with pytest.raises(Forbidden):
        await move(world, "alice", with_status(world, S.UPLOADED), S.IN_REVIEW)


async def test_employee_may_take_back_an_upload_and_reupload_after_rejection(world: World) -> None:
    assert (await move(world, "alice", with_status(world, S.UPLOADED), S.REQUESTED)).status is S.REQUESTED
    assert (await move(world, "alice", with_status(world, S.REJECTED), S.UPLOADED)).status is S.UPLOADED


@pytest.mark.parametrize("target", [s for s in S if s is not S.APPROVED])
async def test_approved_is_final(world: World, target: DocumentStatus) -> None:
    doc = with_status(world, S.APPROVED)
    with pytest.raises(InvalidTransition):
        await move(world, "admin", doc, target)


async def test_editing_other_fields_keeps_the_status_and_is_allowed(world: World) -> None:
    doc = with_status(world, S.APPROVED)
    updated = await world.documents.update(world.as_(world.alice), doc.id, {"note": "scanned twice"}, 1)
    assert (updated.status, updated.note) == (S.APPROVED, "scanned twice")


@pytest.mark.parametrize("current", list(S))
def test_entity_allows_exactly_the_declared_transitions(current: DocumentStatus) -> None:
    reviewer = Principal(user_id=uuid.uuid4(), company_id=uuid.uuid4(), roles=frozenset({Role.HR}))
    doc = Document(
        company_id=reviewer.company_id, owner_id=uuid.uuid4(), title="t", kind=DocumentKind.ID, status=current
    )
    for target in S:
        allowed = target is current or target in TRANSITIONS[current]
        assert doc.can_become(target) is allowed
        if allowed:
            doc.ensure_can_become(target, reviewer)
        else:
            with pytest.raises(InvalidTransition):
                doc.ensure_can_become(target, reviewer)


async def test_awaiting_review_query(world: World) -> None:
    uploaded, in_review = with_status(world, S.UPLOADED), with_status(world, S.IN_REVIEW)
    with_status(world, S.APPROVED)
    page = await world.documents.list_named(world.as_(world.hr), "documents_awaiting_review")
    assert {d.id for d in page.items} == {uploaded.id, in_review.id}

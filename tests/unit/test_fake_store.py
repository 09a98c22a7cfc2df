"""The fake must evaluate filters like the SQL store does, or the service tests prove nothing."""

from __future__ import annotations

from datetime import date

import pytest

from domains.document.model import DocumentStatus
from domains.document.spec import DOCUMENT
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Order, PageRequest, Related
from domains.user.spec import USER
from tests.unit.conftest import World, make_document


def titles(world: World, filter: Filter | None) -> set[str]:
    return {d.title for d in world.store.rows(DOCUMENT, filter)}


@pytest.fixture
def dated(world: World) -> World:
    world.store.add(
        DOCUMENT,
        make_document(world.alice, "Early", DocumentStatus.UPLOADED, due_on=date(2024, 1, 1)),
        make_document(world.alice, "Late", DocumentStatus.APPROVED, due_on=date(2024, 12, 31), note="100% done_"),
    )
    return world


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (Condition("title", Op.EQ, "Early"), {"Early"}),
        # ne matches NULL, as the SQL compiler's "OR column IS NULL" does
        (Condition("due_on", Op.NE, date(2024, 1, 1)), {"Late", "Alice contract", "Bob contract", "Gus contract"}),
        (Not(Condition("due_on", Op.EQ, date(2024, 1, 1))), {"Late"}),  # NOT UNKNOWN is UNKNOWN
        (Condition("status", Op.IN, [DocumentStatus.UPLOADED, DocumentStatus.APPROVED]), {"Early", "Late"}),
        (Condition("status", Op.NIN, [DocumentStatus.REQUESTED]), {"Early", "Late"}),
        (Condition("due_on", Op.LT, date(2024, 12, 31)), {"Early"}),
        (Condition("due_on", Op.LTE, date(2024, 12, 31)), {"Early", "Late"}),
        (Condition("due_on", Op.GT, date(2024, 1, 1)), {"Late"}),
        (Condition("due_on", Op.GTE, date(2024, 1, 1)), {"Early", "Late"}),
        (Condition("title", Op.LIKE, "%contract"), {"Alice contract", "Bob contract", "Gus contract"}),
        (Condition("title", Op.LIKE, "%Contract"), set()),
        (Condition("title", Op.ILIKE, "%CONTRACT"), {"Alice contract", "Bob contract", "Gus contract"}),
        (Condition("title", Op.LIKE, "_arly"), {"Early"}),
        (Condition("note", Op.LIKE, "100% done_"), {"Late"}),
        (Condition("due_on", Op.IS_NULL, False), {"Early", "Late"}),
        (AllOf((Condition("due_on", Op.IS_NULL, False), Condition("title", Op.EQ, "Late"))), {"Late"}),
        (AnyOf((Condition("title", Op.EQ, "Late"), Condition("title", Op.EQ, "Early"))), {"Early", "Late"}),
        (Not(Condition("title", Op.LIKE, "%contract")), {"Early", "Late"}),
        (AllOf(()), {"Alice contract", "Bob contract", "Gus contract", "Early", "Late"}),
    ],
)
def test_every_operator(dated: World, filter: Filter, expected: set[str]) -> None:
    assert titles(dated, filter) == expected


def test_related_follows_belongs_to_and_has_many(world: World) -> None:
    owned_by_gus = Related("owner", Condition("email", Op.EQ, "gus@globex.example"))
    assert titles(world, owned_by_gus) == {"Gus contract"}
    with_bobs_contract = Related("documents", Condition("title", Op.EQ, "Bob contract"))
    assert [u.email for u in world.store.rows(USER, with_bobs_contract)] == ["bob@acme.example"]


def test_soft_deleted_rows_are_skipped_unless_asked_for(world: World) -> None:
    world.alice_doc.deleted_at = world.alice_doc.created_at
    world.store.add(DOCUMENT, world.alice_doc)
    assert "Alice contract" not in titles(world, None)
    assert len(world.store.rows(DOCUMENT, None, include_deleted=True)) == 3


async def test_keyset_pages_forward_and_backward(world: World) -> None:
    order = (Order("title", descending=True),)
    first = await world.store.find(DOCUMENT, None, order, PageRequest(first=2), 2)
    assert [d.title for d in first.items] == ["Gus contract", "Bob contract"]
    assert first.has_next and not first.has_previous
    rest = await world.store.find(DOCUMENT, None, order, PageRequest(first=2, after=first.cursors[-1]), 2)
    assert [d.title for d in rest.items] == ["Alice contract"] and not rest.has_next
    back = await world.store.find(DOCUMENT, None, order, PageRequest(last=1, before=rest.cursors[0]), 1)
    assert [d.title for d in back.items] == ["Bob contract"] and back.has_previous


async def test_update_checks_the_version(world: World) -> None:
    doc = world.store.stored(DOCUMENT, world.alice_doc.id)
    doc.title = "Changed"
    assert not await world.store.update(DOCUMENT, doc, expected_version=doc.version + 1)
    assert await world.store.update(DOCUMENT, doc, expected_version=doc.version)
    assert world.store.stored(DOCUMENT, doc.id).title == "Changed"

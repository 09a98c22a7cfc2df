"""Page-size and ordering rules, keyset pages through the service, soft delete and restore."""

from __future__ import annotations

import uuid

import pytest

from domains.document.spec import DOCUMENT
from domains.kernel.errors import Forbidden, Invalid, NotFound
from domains.kernel.query import Order, PageLimits, PageRequest
from domains.user.spec import USER
from tests.unit.conftest import World, make_document

# ---- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        (PageRequest(first=101), {("first",): ["must be at most 100"]}),
        (PageRequest(last=101), {("last",): ["must be at most 100"]}),
        (PageRequest(first=-1), {("first",): ["must not be negative"]}),
        (PageRequest(last=-5), {("last",): ["must not be negative"]}),
        (PageRequest(first=1, last=1), {(): ["pass either first or last, not both"]}),
        (PageRequest(after="a", before="b"), {(): ["pass either after or before, not both"]}),
    ],
)
async def test_bad_page_requests_are_invalid(world: World, page: PageRequest, problem: object) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.list(world.as_(world.admin), page=page)
    assert caught.value.problems == problem


async def test_unknown_or_unsortable_order_field_is_invalid(world: World) -> None:
    for field in ("nope", "note", "owner_id"):
        with pytest.raises(Invalid) as caught:
            await world.documents.list(world.as_(world.admin), order=[Order(field)])
        spelled = {"owner_id": "ownerId"}.get(field, field)  # as GraphQL spells it
        assert caught.value.problems == {("orderBy",): [f"cannot order documents by {spelled}"]}


async def test_default_and_maximum_page_sizes(world: World) -> None:
    world.store.add(DOCUMENT, *(make_document(world.alice, f"Doc {i:02}") for i in range(120)))
    admin = world.as_(world.admin)
    default = await world.documents.list(admin)
    assert len(default.items) == 20 and default.has_next
    assert len((await world.documents.list(admin, page=PageRequest(first=100))).items) == 100
    assert (await world.documents.list(admin, page=PageRequest(first=0))).items == []
    small = world.service(DOCUMENT, limits=PageLimits(default=5, maximum=7))
    assert len((await small.list(admin)).items) == 5
    with pytest.raises(Invalid):
        await small.list(admin, page=PageRequest(first=8))
    with pytest.raises(Invalid):
        await small.list_by(admin, "owner_id", [world.alice.id], None, (), first=8, after=None)


async def test_pages_follow_cursors_in_the_requested_order(world: World) -> None:
    world.store.add(DOCUMENT, *(make_document(world.alice, f"Doc {i}") for i in range(5)))
    alice, order = world.as_(world.alice), [Order("title", descending=True)]
    seen, after = [], None
    while True:
        page = await world.documents.list(alice, order=order, page=PageRequest(first=2, after=after))
        seen += [d.title for d in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == ["Doc 4", "Doc 3", "Doc 2", "Doc 1", "Doc 0", "Alice contract"]


async def test_default_order_is_the_specs(world: World) -> None:
    page = await world.users.list(world.as_(world.hr))
    assert [u.full_name for u in page.items] == ["Admin", "Alice", "Bob", "Hr"]


# ---- soft delete and restore -------------------------------------------------------------


async def test_delete_is_soft_and_hides_the_row(world: World) -> None:
    hr = world.as_(world.hr)
    deleted = await world.documents.delete(hr, world.bob_doc.id, 1)
    assert deleted.deleted_at is not None and deleted.version == 2
    stored = world.store.stored(DOCUMENT, world.bob_doc.id)
    assert stored.deleted_at == deleted.deleted_at and stored.version == 2 and stored.updated_at >= stored.created_at
    assert await world.documents.get(hr, world.bob_doc.id) is None
    assert world.bob_doc.id not in {d.id for d in (await world.documents.list(hr)).items}
    assert await world.documents.count(hr) == 1
    with pytest.raises(NotFound):
        await world.documents.delete(hr, world.bob_doc.id, 2)
    with pytest.raises(NotFound):
        await world.documents.update(hr, world.bob_doc.id, {"title": "Back?"}, 2)


async def test_admin_restores_a_deleted_row(world: World) -> None:
    await world.users.delete(world.as_(world.hr), world.bob.id, 1)
    restored = await world.users.restore(world.as_(world.admin), world.bob.id)
    assert restored.deleted_at is None and restored.version == 3
    assert await world.users.get(world.as_(world.hr), world.bob.id) == restored
    assert world.store.stored(USER, world.bob.id).version == 3


@pytest.mark.parametrize("who", ["hr", "alice", "globex_hr"])
async def test_only_an_admin_may_restore(world: World, who: str) -> None:
    await world.documents.delete(world.as_(world.hr), world.bob_doc.id, 1)
    with pytest.raises(Forbidden):
        await world.documents.restore(world.as_(getattr(world, who)), world.bob_doc.id)
    assert world.store.stored(DOCUMENT, world.bob_doc.id).deleted_at is not None


async def test_restoring_a_live_or_missing_row(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.restore(world.as_(world.admin), world.bob_doc.id)
    assert caught.value.problems == {("id",): ["this Document is not deleted"]}
    assert world.store.stored(DOCUMENT, world.bob_doc.id).version == 1
    with pytest.raises(NotFound):
        await world.documents.restore(world.as_(world.admin), uuid.uuid4())


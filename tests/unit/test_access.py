"""Tenancy and permissions: another company's rows look missing; roles decide who may do what."""

from __future__ import annotations

import uuid

import pytest

from domains.document.model import DocumentKind
from domains.document.spec import DOCUMENT
from domains.kernel.errors import Forbidden, Invalid, NotFound
from domains.kernel.principal import Role
from domains.kernel.query import Condition, Not, Op, Related
from domains.user.spec import USER
from domains.workflow.model import WorkflowKind
from tests.unit.conftest import World, make_document

# ---- another company's id behaves like a missing one -----------------------------------------


@pytest.mark.parametrize("missing", ["gus_doc", None])
async def test_other_tenant_or_missing_id_is_not_found(world: World, missing: str | None) -> None:
    id = getattr(world, missing).id if missing else uuid.uuid4()
    hr = world.as_(world.hr)
    assert await world.documents.get(hr, id) is None
    with pytest.raises(NotFound) as on_update:
        await world.documents.update(hr, id, {"title": "Mine now"}, 1)
    with pytest.raises(NotFound) as on_delete:
        await world.documents.delete(hr, id, 1)
    assert (on_update.value.entity, on_update.value.id) == ("Document", id)
    assert on_delete.value.message == f"Document {id} was not found"
    assert world.store.stored(DOCUMENT, world.gus_doc.id) == world.gus_doc


async def test_other_tenants_company_is_not_found(world: World) -> None:
    hr = world.as_(world.hr)
    assert await world.companies.get(hr, world.globex.id) is None
    with pytest.raises(NotFound):
        await world.companies.update(hr, world.globex.id, {"name": "Hijacked"}, 1)


async def test_get_many_keeps_order_and_hides_what_is_not_visible(world: World) -> None:
    missing = uuid.uuid4()
    ids = [world.bob_doc.id, world.gus_doc.id, missing, world.alice_doc.id]
    found = await world.documents.get_many(world.as_(world.hr), ids)
    assert found == [world.bob_doc, None, None, world.alice_doc]


async def test_reference_to_another_companys_user_is_invalid(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.create(
            world.as_(world.hr), {"owner_id": world.gus.id, "title": "T", "kind": DocumentKind.ID}
        )
    assert caught.value.problems == {("owner_id",): [f"User {world.gus.id} was not found"]}
    with pytest.raises(Invalid) as caught:
        await world.documents.update(world.as_(world.hr), world.bob_doc.id, {"owner_id": world.gus.id}, 1)
    assert list(caught.value.problems) == [("owner_id",)]
    with pytest.raises(Invalid) as caught:
        await world.users.update(world.as_(world.hr), world.bob.id, {"manager_id": world.globex_hr.id}, 1)
    assert list(caught.value.problems) == [("manager_id",)]


async def test_admin_cannot_give_a_document_an_owner_from_another_company(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.create(
            world.as_(world.admin), {"owner_id": world.gus.id, "title": "T", "kind": DocumentKind.ID}
        )
    assert list(caught.value.problems) == [("owner_id",)]


async def test_creating_into_another_company_is_forbidden(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.users.create(
            world.as_(world.hr),
            {"company_id": world.globex.id, "email": "x@globex.example", "full_name": "X", "role": Role.EMPLOYEE},
        )
    created = await world.users.create(
        world.as_(world.admin),
        {"company_id": world.globex.id, "email": "x@globex.example", "full_name": "X", "role": Role.EMPLOYEE},
    )
    assert created.company_id == world.globex.id


# ---- Forbidden -------------------------------------------------------------------------------


async def test_employee_cannot_create_a_user_or_workflow_or_company(world: World) -> None:
    alice = world.as_(world.alice)
    with pytest.raises(Forbidden):
        await world.users.create(alice, {"email": "c@acme.example", "full_name": "C", "role": Role.EMPLOYEE})
    with pytest.raises(Forbidden):
        await world.workflows.create(alice, {"subject_id": world.alice.id, "kind": WorkflowKind.REVIEW, "title": "T"})
    with pytest.raises(Forbidden):
        await world.companies.create(world.as_(world.hr), {"name": "Initech"})
    assert len(world.store.rows(USER)) == 6


async def test_employee_creates_documents_only_for_themselves(world: World) -> None:
    alice = world.as_(world.alice)
    with pytest.raises(Forbidden):
        await world.documents.create(alice, {"owner_id": world.bob.id, "title": "For Bob", "kind": DocumentKind.ID})
    own = await world.documents.create(alice, {"owner_id": world.alice.id, "title": "Mine", "kind": DocumentKind.ID})
    assert own.owner_id == world.alice.id
    assert {d.title for d in world.store.rows(DOCUMENT)} == {"Alice contract", "Bob contract", "Gus contract", "Mine"}


async def test_hr_creates_documents_for_anyone_in_the_company(world: World) -> None:
    doc = await world.documents.create(
        world.as_(world.hr), {"owner_id": world.bob.id, "title": "T", "kind": DocumentKind.ID}
    )
    assert (doc.owner_id, doc.company_id) == (world.bob.id, world.acme.id)


async def test_employee_cannot_hand_their_document_to_someone_else(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.documents.update(world.as_(world.alice), world.alice_doc.id, {"owner_id": world.bob.id}, 1)
    assert world.store.stored(DOCUMENT, world.alice_doc.id).owner_id == world.alice.id


async def test_employee_cannot_touch_a_colleagues_document(world: World) -> None:
    # Not even readable, so it looks missing rather than forbidden.
    with pytest.raises(NotFound):
        await world.documents.update(world.as_(world.alice), world.bob_doc.id, {"title": "Mine"}, 1)


async def test_employee_cannot_delete_even_their_own_document(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.documents.delete(world.as_(world.alice), world.alice_doc.id, 1)
    assert world.store.stored(DOCUMENT, world.alice_doc.id).deleted_at is None


async def test_employee_updates_own_profile_but_not_a_colleagues(world: World) -> None:
    alice = world.as_(world.alice)
    updated = await world.users.update(alice, world.alice.id, {"full_name": "Alice A."}, 1)
    assert updated.full_name == "Alice A."
    with pytest.raises(Forbidden):
        await world.users.update(alice, world.bob.id, {"full_name": "Bobby"}, 1)
    assert world.store.stored(USER, world.bob.id).full_name == "Bob"


async def test_employee_cannot_change_their_own_role(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.users.update(world.as_(world.alice), world.alice.id, {"role": Role.HR}, 1)
    assert world.store.stored(USER, world.alice.id).role is Role.EMPLOYEE


async def test_hr_may_promote_to_hr_but_not_make_an_admin(world: World) -> None:
    hr = world.as_(world.hr)
    with pytest.raises(Forbidden):
        await world.users.update(hr, world.bob.id, {"role": Role.ADMIN}, 1)
    with pytest.raises(Forbidden):
        await world.users.create(hr, {"email": "boss@acme.example", "full_name": "Boss", "role": Role.ADMIN})
    assert (await world.users.update(hr, world.bob.id, {"role": Role.HR}, 1)).role is Role.HR
    assert "boss@acme.example" not in {u.email for u in world.store.rows(USER)}


async def test_admin_may_make_an_admin(world: World) -> None:
    promoted = await world.users.update(world.as_(world.admin), world.bob.id, {"role": Role.ADMIN}, 1)
    assert promoted.role is Role.ADMIN


async def test_hr_of_another_company_cannot_update_or_delete(world: World) -> None:
    with pytest.raises(NotFound):
        await world.users.delete(world.as_(world.globex_hr), world.bob.id, 1)


# ---- reads -----------------------------------------------------------------------------------


async def titles_seen_by(world: World, who: str) -> set[str]:
    page = await world.documents.list(world.as_(getattr(world, who)))
    return {d.title for d in page.items}


async def test_list_reach_per_role(world: World) -> None:
    assert await titles_seen_by(world, "alice") == {"Alice contract"}
    assert await titles_seen_by(world, "hr") == {"Alice contract", "Bob contract"}
    assert await titles_seen_by(world, "globex_hr") == {"Gus contract"}
    assert await titles_seen_by(world, "admin") == {"Alice contract", "Bob contract", "Gus contract"}
    assert await world.documents.count(world.as_(world.alice)) == 1
    assert await world.documents.count(world.as_(world.admin)) == 3


async def test_get_many_reach_per_role(world: World) -> None:
    ids = [world.alice_doc.id, world.bob_doc.id, world.gus_doc.id]
    assert await world.documents.get_many(world.as_(world.alice), ids) == [world.alice_doc, None, None]
    assert await world.documents.get_many(world.as_(world.hr), ids) == [world.alice_doc, world.bob_doc, None]
    everything = [world.alice_doc, world.bob_doc, world.gus_doc]
    assert await world.documents.get_many(world.as_(world.admin), ids) == everything


async def test_employee_sees_the_whole_company_directory_but_only_their_workflows(world: World) -> None:
    people = await world.users.list(world.as_(world.bob))
    assert {u.email for u in people.items} == {"admin@acme.example", "hr@acme.example", "alice@acme.example",
                                               "bob@acme.example"}  # fmt: skip
    assert (await world.workflows.list(world.as_(world.bob))).items == []
    assert (await world.workflows.list(world.as_(world.alice))).items == [world.alice_onboarding]


async def test_user_filter_cannot_leak_an_unreadable_document(world: World) -> None:
    has_bobs_contract = Related("documents", Condition("title", Op.EQ, "Bob contract"))
    seen_by_alice = await world.users.list(world.as_(world.alice), has_bobs_contract)
    assert seen_by_alice.items == []
    seen_by_hr = await world.users.list(world.as_(world.hr), has_bobs_contract)
    assert [u.id for u in seen_by_hr.items] == [world.bob.id]
    assert await world.users.count(world.as_(world.alice), has_bobs_contract) == 0


async def test_negated_relation_filter_is_scoped_too(world: World) -> None:
    without_documents = Not(Related("documents", Condition("id", Op.IS_NULL, False)))
    seen_by_alice = await world.users.list(world.as_(world.alice), without_documents)
    # Alice cannot see Bob's document, so to her Bob has none.
    assert {u.email for u in seen_by_alice.items} == {"admin@acme.example", "hr@acme.example", "bob@acme.example"}


async def test_document_filter_by_owner_cannot_reach_another_tenant(world: World) -> None:
    by_gus = Related("owner", Condition("email", Op.EQ, "gus@globex.example"))
    assert (await world.documents.list(world.as_(world.admin), by_gus)).items == [world.gus_doc]
    assert (await world.documents.list(world.as_(world.hr), by_gus)).items == []


async def test_named_query_runs_within_reach(world: World) -> None:
    seen = await world.users.list_named(world.as_(world.hr), "users_without_manager")
    assert {u.email for u in seen.items} == {"admin@acme.example", "hr@acme.example", "bob@acme.example"}
    assert await world.users.count_named(world.as_(world.globex_hr), "users_without_manager") == 2
    with pytest.raises(KeyError):
        world.users.named("no_such_query")


async def test_grouped_lists_and_counts_respect_reach(world: World) -> None:
    world.store.add(DOCUMENT, make_document(world.bob, "Bob ID"))
    owners = [world.alice.id, world.bob.id, world.gus.id]
    pages = await world.documents.list_by(world.as_(world.hr), "owner_id", owners, None, (), first=1, after=None)
    assert [len(pages[o].items) for o in owners] == [1, 1, 0]
    assert pages[world.bob.id].has_next
    counts = await world.documents.count_by(world.as_(world.alice), "owner_id", owners, None)
    assert counts == {world.alice.id: 1, world.bob.id: 0, world.gus.id: 0}


async def test_only_an_administrator_may_change_or_remove_an_administrator(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.users.update(world.as_(world.hr), world.admin.id, {"full_name": "Demoted"}, 1)
    with pytest.raises(Forbidden):
        await world.users.delete(world.as_(world.hr), world.admin.id, 1)
    renamed = await world.users.update(world.as_(world.admin), world.admin.id, {"full_name": "Ada A."}, 1)
    assert renamed.full_name == "Ada A."

"""Invalid and Conflict: bad input is reported per field, and nothing is stored after it."""

from __future__ import annotations

from typing import Any

import pytest

from domains.company.spec import COMPANY
from domains.document.model import DocumentKind, DocumentStatus
from domains.document.spec import DOCUMENT
from domains.kernel.errors import Conflict, Invalid
from domains.kernel.principal import Role
from domains.user.spec import USER
from domains.workflow.model import WorkflowStatus
from tests.unit.conftest import World
from tests.unit.fakes import FakeEntityStore

Snapshot = dict[str, list[Any]]


def snapshot(store: FakeEntityStore) -> Snapshot:
    return {name: sorted((r.id, r.version) for r in table.values()) for name, table in store.tables.items()}


def new_user(**overrides: Any) -> dict[str, Any]:
    return {"email": "carol@acme.example", "full_name": "Carol", "role": Role.EMPLOYEE} | overrides


async def test_missing_required_fields_are_all_listed_at_once(world: World) -> None:
    before = snapshot(world.store)
    with pytest.raises(Invalid) as caught:
        await world.users.create(world.as_(world.hr), {"full_name": "Carol"})
    assert caught.value.problems == {("email",): ["is required"], ("role",): ["is required"]}
    assert caught.value.code == "INVALID"
    assert snapshot(world.store) == before


async def test_explicit_null_counts_as_missing_on_create(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.create(world.as_(world.hr), {"owner_id": world.alice.id, "title": None, "kind": None})
    assert set(caught.value.problems) == {("title",), ("kind",)}


async def test_tenant_and_own_owner_are_filled_in_so_not_missing(world: World) -> None:
    doc = await world.documents.create(world.as_(world.alice), {"title": "Passport", "kind": DocumentKind.ID})
    assert (doc.company_id, doc.owner_id, doc.status) == (world.acme.id, world.alice.id, DocumentStatus.REQUESTED)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (new_user(email="a" * 250 + "@acme.example"), "email", "must be at most 254 characters"),
        (new_user(email="not-an-email"), "email", "has an invalid format"),
        (new_user(email="two@at@acme.example"), "email", "has an invalid format"),
        (new_user(full_name="   "), "full_name", "must not be blank"),
        (new_user(full_name="x" * 201), "full_name", "must be at most 200 characters"),
        (new_user(role="EMPLOYEE"), "role", "must be one of EMPLOYEE, HR, ADMIN"),
    ],
)
async def test_field_constraints(world: World, data: dict[str, Any], field: str, message: str) -> None:
    before = snapshot(world.store)
    with pytest.raises(Invalid) as caught:
        await world.users.create(world.as_(world.hr), data)
    assert message in caught.value.problems[(field,)]
    assert snapshot(world.store) == before


async def test_several_constraint_problems_are_reported_together(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.users.create(world.as_(world.hr), new_user(email="nope", full_name="x" * 201))
    assert set(caught.value.problems) == {("email",), ("full_name",)}


async def test_company_name_too_short(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.companies.create(world.as_(world.admin), {"name": "X"})
    assert caught.value.problems == {("name",): ["must be at least 2 characters"]}


@pytest.mark.parametrize("field", ["nickname", "id", "version", "deleted_at", "created_at"])
async def test_unknown_and_system_fields_cannot_be_set(world: World, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        await world.users.create(world.as_(world.hr), new_user(**{field: "x"}))
    assert caught.value.problems == {(field,): ["is not a field you can set"]}
    assert "carol@acme.example" not in {u.email for u in world.store.rows(USER, include_deleted=True)}


async def test_field_not_settable_on_create(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.create(
            world.as_(world.hr),
            {"owner_id": world.alice.id, "title": "T", "kind": DocumentKind.ID, "status": DocumentStatus.APPROVED},
        )
    assert caught.value.problems == {("status",): ["cannot be set on create"]}


async def test_company_slug_cannot_be_set(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.companies.create(world.as_(world.admin), {"name": "Initech", "slug": "evil"})
    assert caught.value.problems == {("slug",): ["cannot be set on create"]}


@pytest.mark.parametrize(
    ("service", "target", "data"),
    [
        ("workflows", "alice_onboarding", {"status": WorkflowStatus.COMPLETED}),
        ("users", "alice", {"company_id": "globex"}),
        ("documents", "alice_doc", {"company_id": "globex"}),
        ("workflows", "alice_onboarding", {"subject_id": "bob"}),
    ],
)
async def test_fields_not_settable_on_update(world: World, service: str, target: str, data: dict[str, Any]) -> None:
    data = {k: getattr(world, v).id if isinstance(v, str) else v for k, v in data.items()}
    entity = getattr(world, target)
    with pytest.raises(Invalid) as caught:
        await getattr(world, service).update(world.as_(world.admin), entity.id, data, entity.version)
    assert caught.value.problems == {(name,): ["cannot be set on update"] for name in data}
    assert world.store.stored(getattr(world, service).spec, entity.id) == entity


async def test_null_for_a_required_field_on_update(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.users.update(world.as_(world.hr), world.bob.id, {"full_name": None, "manager_id": None}, 1)
    assert caught.value.problems == {("full_name",): ["is required"]}
    assert world.store.stored(USER, world.bob.id) == world.bob


async def test_null_for_an_optional_field_on_update_clears_it(world: World) -> None:
    updated = await world.users.update(world.as_(world.hr), world.alice.id, {"manager_id": None}, 1)
    assert updated.manager_id is None
    assert world.store.stored(USER, world.alice.id).manager_id is None


async def test_entity_invariant_is_reported_on_its_field(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.users.update(world.as_(world.hr), world.bob.id, {"manager_id": world.bob.id}, 1)
    assert caught.value.problems == {("manager_id",): ["a person cannot be their own manager"]}


async def test_reference_to_a_missing_row_is_invalid(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        await world.documents.create(
            world.as_(world.hr), {"owner_id": world.acme.id, "title": "T", "kind": DocumentKind.ID}
        )
    assert list(caught.value.problems) == [("owner_id",)]


# ---- Conflict -------------------------------------------------------------------------------


async def test_duplicate_email_conflicts_on_the_field(world: World) -> None:
    before = snapshot(world.store)
    with pytest.raises(Conflict) as caught:
        await world.users.create(world.as_(world.hr), new_user(email="bob@acme.example"))
    assert caught.value.field == "email" and caught.value.current_version is None
    assert caught.value.code == "CONFLICT"
    assert snapshot(world.store) == before


async def test_email_is_unique_within_a_company(world: World) -> None:
    with pytest.raises(Conflict) as caught:
        await world.users.create(world.as_(world.hr), new_user(email="Alice@acme.example"))
    assert caught.value.field == "email"
    assert caught.value.message == "email 'alice@acme.example' is already taken in this company"


async def test_another_companys_email_is_neither_a_conflict_nor_a_clue(world: World) -> None:
    """Globex's people are none of Acme's business: the same address is simply a new person here."""
    created = await world.users.create(world.as_(world.hr), new_user(email="gus@globex.example"))
    assert created.company_id == world.acme.id
    assert {u.company_id for u in world.store.rows(USER, None) if u.email == "gus@globex.example"} == {
        world.acme.id,
        world.globex.id,
    }


async def test_email_of_a_soft_deleted_user_stays_taken(world: World) -> None:
    await world.users.delete(world.as_(world.hr), world.bob.id, 1)
    with pytest.raises(Conflict):
        await world.users.create(world.as_(world.hr), new_user(email="bob@acme.example"))


async def test_keeping_ones_own_unique_value_is_no_conflict(world: World) -> None:
    updated = await world.users.update(world.as_(world.hr), world.bob.id, {"email": "bob@acme.example"}, 1)
    assert updated.version == 2


async def test_company_names_are_free_and_slugs_get_a_suffix(world: World) -> None:
    """An ADMIN (who sees every company) creates them; the slug is the system's choice."""
    admin = world.as_(world.admin)
    again = await world.companies.create(admin, {"name": "Globex"})
    alike = await world.companies.create(admin, {"name": "GLOBEX!"})
    assert [(c.name, c.slug) for c in (again, alike)] == [("Globex", "globex-2"), ("GLOBEX!", "globex-3")]
    assert world.store.stored(COMPANY, world.globex.id).slug == "globex"


async def test_renaming_onto_another_companys_name_tells_nothing(world: World) -> None:
    """HR of Acme renames it as Globex: no conflict that would tell her Globex exists."""
    renamed = await world.companies.update(world.as_(world.hr), world.acme.id, {"name": "Globex"}, 1)
    assert (renamed.name, renamed.slug, renamed.version) == ("Globex", "acme", 2)
    assert world.store.stored(COMPANY, world.globex.id).name == "Globex"


async def test_many_companies_of_one_name_cost_a_bounded_number_of_look_ups(world: World, monkeypatch) -> None:
    admin = world.as_(world.admin)
    looked_up: list[object] = []
    exists = world.store.exists

    async def counted(*args: object, **kwargs: object) -> bool:
        looked_up.append(args)
        return await exists(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.store, "exists", counted)
    slugs = []
    for _ in range(12):
        looked_up.clear()
        slugs.append((await world.companies.create(admin, {"name": "Initech"})).slug)
        assert len(looked_up) <= 10
    assert slugs[:9] == ["initech", *(f"initech-{n}" for n in range(2, 10))]
    assert len(set(slugs)) == 12 and all(s.startswith("initech-") and len(s) == len("initech-") + 8 for s in slugs[9:])


async def test_stale_expected_version_conflicts_with_the_current_version(world: World) -> None:
    with pytest.raises(Conflict) as caught:
        await world.documents.update(world.as_(world.hr), world.alice_doc.id, {"title": "New"}, expected_version=7)
    assert caught.value.current_version == 1 and caught.value.field is None
    with pytest.raises(Conflict) as caught:
        await world.documents.delete(world.as_(world.hr), world.alice_doc.id, expected_version=0)
    assert caught.value.current_version == 1
    assert world.store.stored(DOCUMENT, world.alice_doc.id) == world.alice_doc


class RacingStore(FakeEntityStore):
    """Another writer commits between the service's read and its write."""

    async def update(self, spec: Any, entity: Any, expected_version: int) -> bool:
        rival = self.stored(spec, entity.id)
        rival.version += 1
        self.add(spec, rival)
        return await super().update(spec, entity, expected_version)


async def test_lost_race_in_the_store_is_a_conflict(world: World) -> None:
    racing = RacingStore(world.registry)
    racing.tables = world.store.tables
    world.store = racing
    with pytest.raises(Conflict) as caught:
        await world.documents.update(world.as_(world.hr), world.alice_doc.id, {"title": "Mine"}, 1)
    assert caught.value.current_version == 2
    assert world.store.stored(DOCUMENT, world.alice_doc.id).title == "Alice contract"


def test_declared_ranges_and_custom_validators() -> None:
    from domains.kernel.entity import Field as Declared
    from domains.kernel.entity import FieldType

    def even(value: object) -> str | None:
        return None if isinstance(value, int) and value % 2 == 0 else "must be even"

    seats = Declared("seats", FieldType.INT, minimum=1, maximum=10, validators=(even,))
    assert seats.check(4) == []
    assert seats.check(-1) == ["must be at least 1", "must be even"]
    assert seats.check(0) == ["must be at least 1"]
    assert seats.check(12) == ["must be at most 10"]
    assert seats.check(7) == ["must be even"]

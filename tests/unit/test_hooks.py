"""Lifecycle hooks: domain hooks run before validation, in order; after-commit ones are deferred."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from domains.company.spec import COMPANY
from domains.document.model import DocumentKind
from domains.document.spec import DOCUMENT
from domains.kernel.entity import Hook, HookEvent
from domains.kernel.errors import Conflict, Invalid
from domains.kernel.principal import Role
from domains.user.spec import USER
from tests.unit.conftest import World
from tests.unit.fakes import FakeEntityStore


async def test_email_is_normalised_on_create(world: World) -> None:
    created = await world.users.create(
        world.as_(world.hr), {"email": "  Carol@ACME.example ", "full_name": "Carol", "role": Role.EMPLOYEE}
    )
    assert created.email == "carol@acme.example"
    assert world.store.stored(USER, created.id).email == "carol@acme.example"


async def test_email_is_normalised_on_update(world: World) -> None:
    updated = await world.users.update(world.as_(world.bob), world.bob.id, {"email": "Robert@Acme.Example"}, 1)
    assert world.store.stored(USER, updated.id).email == "robert@acme.example"


async def test_email_is_normalised_before_the_uniqueness_check(world: World) -> None:
    with pytest.raises(Conflict) as caught:
        await world.users.create(
            world.as_(world.hr), {"email": "ALICE@acme.example ", "full_name": "Alice 2", "role": Role.EMPLOYEE}
        )
    assert caught.value.field == "email"
    with pytest.raises(Conflict):
        await world.users.update(world.as_(world.bob), world.bob.id, {"email": " Alice@Acme.Example"}, 1)
    assert world.store.stored(USER, world.bob.id).email == "bob@acme.example"


async def test_email_is_normalised_before_the_format_check(world: World) -> None:
    created = await world.users.create(
        world.as_(world.hr), {"email": "\tdan@acme.example\n", "full_name": "Dan", "role": Role.EMPLOYEE}
    )
    assert created.email == "dan@acme.example"


async def test_company_slug_is_derived_on_create_and_kept_on_rename(world: World) -> None:
    created = await world.companies.create(world.as_(world.admin), {"name": "Crème Brûlée & Co."})
    assert created.slug == "creme-brulee-co"
    renamed = await world.companies.update(world.as_(world.admin), created.id, {"name": "Initech  GmbH"}, 1)
    assert (renamed.name, renamed.slug) == ("Initech  GmbH", "creme-brulee-co")
    assert world.store.stored(COMPANY, created.id).slug == "creme-brulee-co"


async def test_a_long_name_leaves_room_for_the_slug_suffix(world: World) -> None:
    admin = world.as_(world.admin)
    first = await world.companies.create(admin, {"name": "x" * 200})
    second = await world.companies.create(admin, {"name": "x" * 200})
    assert first.slug == "x" * 190 and second.slug == "x" * 190 + "-2"


async def test_slug_of_a_name_without_letters_falls_back(world: World) -> None:
    created = await world.companies.create(world.as_(world.admin), {"name": "!!!"})
    assert created.slug == "company"


def recording(spec: Any, store: FakeEntityStore, log: list[str], *, fail_at: Hook | None = None) -> Any:
    """``spec`` with a hook on every lifecycle point (after its own) logging whether the entity it sees is stored.

    The spec's own after-commit hooks are left out so that the deferred actions are only the recording ones."""

    def record(hook: Hook) -> Any:
        async def hook_fn(event: HookEvent[Any]) -> None:
            stored = store.stored(spec, event.entity.id) == event.entity
            log.append(f"{hook.value}:{'stored' if stored else 'unstored'}")
            if hook is fail_at:
                raise Invalid("stop here")

        return hook_fn

    hooks = {hook: [*spec.hooks.get(hook, ()), record(hook)] for hook in Hook}
    hooks[Hook.AFTER_COMMIT] = [record(Hook.AFTER_COMMIT)]
    hooks[Hook.BEFORE_CREATE].append(lambda event: log.append("before_create:second"))
    return dataclasses.replace(spec, hooks=hooks)


@pytest.fixture
def log() -> list[str]:
    return []


async def test_create_hooks_run_in_order_and_after_commit_is_deferred(world: World, log: list[str]) -> None:
    service = world.service(recording(DOCUMENT, world.store, log))
    await service.create(world.as_(world.hr), {"owner_id": world.bob.id, "title": "T", "kind": DocumentKind.ID})
    assert log == ["before_create:unstored", "before_create:second", "after_create:stored"]
    assert len(world.after_commit.actions) == 1
    await world.after_commit.run()
    assert log[-1] == "after_commit:stored"
    assert world.after_commit.actions == []


async def test_update_and_delete_hooks_see_the_previous_state(world: World, log: list[str]) -> None:
    seen: list[tuple[str, str | None]] = []

    def remember(event: HookEvent[Any]) -> None:
        seen.append((event.entity.title, event.previous.title if event.previous else None))

    spec = recording(DOCUMENT, world.store, log)
    spec = dataclasses.replace(spec, hooks={**spec.hooks, Hook.AFTER_UPDATE: [remember]})
    service = world.service(spec)
    await service.update(world.as_(world.hr), world.bob_doc.id, {"title": "Renamed"}, 1)
    assert seen == [("Renamed", "Bob contract")]
    assert log == ["before_update:unstored"]
    await world.after_commit.run()
    await service.delete(world.as_(world.hr), world.bob_doc.id, 2)
    assert log == ["before_update:unstored", "after_commit:stored", "before_delete:unstored", "after_delete:stored"]
    assert len(world.after_commit.actions) == 1
    await world.after_commit.run()
    assert log[-1] == "after_commit:stored"


async def test_a_failing_before_hook_stores_nothing_and_defers_nothing(world: World, log: list[str]) -> None:
    service = world.service(recording(DOCUMENT, world.store, log, fail_at=Hook.BEFORE_CREATE))
    with pytest.raises(Invalid):
        await service.create(world.as_(world.hr), {"owner_id": world.bob.id, "title": "T", "kind": DocumentKind.ID})
    assert len(world.store.rows(DOCUMENT)) == 3
    assert world.after_commit.actions == []


async def test_failed_validation_runs_no_after_hooks(world: World, log: list[str]) -> None:
    service = world.service(recording(DOCUMENT, world.store, log))
    with pytest.raises(Invalid):
        await service.create(
            world.as_(world.hr), {"owner_id": world.bob.id, "title": "x" * 201, "kind": DocumentKind.ID}
        )
    assert log == ["before_create:unstored", "before_create:second"]
    assert world.after_commit.actions == []


async def test_each_after_commit_hook_is_deferred_separately_with_its_event(world: World) -> None:
    calls: list[str] = []

    async def first(event: HookEvent[Any]) -> None:
        calls.append(f"first:{event.entity.title}")

    def second(event: HookEvent[Any]) -> None:
        calls.append(f"second:{event.entity.title}")

    service = world.service(dataclasses.replace(DOCUMENT, hooks={Hook.AFTER_COMMIT: [first, second]}))
    await service.create(world.as_(world.hr), {"owner_id": world.bob.id, "title": "A", "kind": DocumentKind.ID})
    await service.create(world.as_(world.hr), {"owner_id": world.bob.id, "title": "B", "kind": DocumentKind.ID})
    assert calls == [] and len(world.after_commit.actions) == 4
    await world.after_commit.run()
    assert calls == ["first:A", "second:A", "first:B", "second:B"]

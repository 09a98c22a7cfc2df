"""The generic CRUD service every declared entity gets.

It reads like the rules: authorize, validate, run the hooks, persist. Each write is a use case
that owns its transaction, on the operation's unit of work (``Work``), as the commands do: it
opens it (a GraphQL ``createX``), or joins the one a command opened (a document created with
its first upload); the unit of work commits and runs the after-commit hooks once it has.
"""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic

from domains.kernel.access import covers, read_scope, require_reach, scope_filter, scope_relations
from domains.kernel.entity import (
    SYSTEM_FIELDS,
    E,
    EntitySpec,
    Field,
    Hook,
    HookEvent,
    NamedQuery,
    Reach,
    Registry,
    all_fields,
    utcnow,
)
from domains.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domains.kernel.events import camel
from domains.kernel.ports import EntityStore, Work
from domains.kernel.principal import Principal
from domains.kernel.query import (
    Condition,
    Filter,
    Not,
    Op,
    Order,
    Page,
    PageLimits,
    PageRequest,
    all_of,
)
from domains.kernel.versions import check_version


class EntityService(Generic[E]):
    def __init__(
        self,
        spec: EntitySpec[E],
        store: EntityStore,
        registry: Registry,
        uow: Work,
        limits: PageLimits = PageLimits(),
    ) -> None:
        self.spec = spec
        self.store = store
        self.registry = registry
        self.uow = uow
        self.limits = limits

    # ---- reads -------------------------------------------------------------------------

    async def get(self, actor: Principal, id: uuid.UUID) -> E | None:
        (found,) = await self.get_many(actor, [id])
        return found

    async def get_many(self, actor: Principal, ids: Sequence[uuid.UUID]) -> list[E | None]:
        """In the order asked, None where absent or not visible (the two look alike)."""
        rows = await self.store.get_many(self.spec, ids, read_scope(self.spec, actor))
        by_id = {row.id: row for row in rows}
        return [by_id.get(i) for i in ids]

    async def list(
        self,
        actor: Principal,
        filter: Filter | None = None,
        order: Sequence[Order] = (),
        page: PageRequest = PageRequest(),
    ) -> Page[E]:
        limit = self.page_size(page)
        order = self.ordering(order)
        return await self.store.find(self.spec, self._scoped(actor, filter), order, page, limit)

    async def count(self, actor: Principal, filter: Filter | None = None) -> int:
        return await self.store.count(self.spec, self._scoped(actor, filter))

    def _scoped(self, actor: Principal, filter: Filter | None) -> Filter | None:
        related = scope_relations(self.spec, filter, actor, self.registry)
        return all_of(read_scope(self.spec, actor), related)

    async def list_named(
        self,
        actor: Principal,
        name: str,
        filter: Filter | None = None,
        order: Sequence[Order] = (),
        page: PageRequest = PageRequest(),
    ) -> Page[E]:
        query = self.named(name)
        return await self.list(actor, all_of(query.filter(actor), filter), order or query.order, page)

    async def count_named(self, actor: Principal, name: str, filter: Filter | None = None) -> int:
        return await self.count(actor, all_of(self.named(name).filter(actor), filter))

    async def list_by(
        self,
        actor: Principal,
        key: str,
        keys: Sequence[Any],
        filter: Filter | None,
        order: Sequence[Order],
        first: int | None,
        after: str | None,
    ) -> dict[Any, Page[E]]:
        """One page per key of rows whose ``key`` field equals it: a one-to-many relation."""
        limit = self.page_size(PageRequest(first=first, after=after))
        return await self.store.find_grouped(
            self.spec, key, keys, self._scoped(actor, filter), self.ordering(order), limit, after
        )

    async def count_by(self, actor: Principal, key: str, keys: Sequence[Any], filter: Filter | None) -> dict[Any, int]:
        return await self.store.count_grouped(self.spec, key, keys, self._scoped(actor, filter))

    def named(self, name: str) -> NamedQuery:
        for query in self.spec.queries:
            if query.name == name:
                return query
        raise KeyError(f"{self.spec.name} has no query {name!r}")

    def page_size(self, page: PageRequest) -> int:
        if page.first is not None and page.last is not None:
            raise Invalid("pass either first or last, not both")
        if page.after is not None and page.before is not None:
            raise Invalid("pass either after or before, not both")
        # first pages forward from after, last backward from before; a cursor on the other
        # side would be ignored, so it is refused instead of answering a different page.
        if page.first is not None and page.before is not None:
            raise Invalid.field("before", "cannot be combined with first: page backward with last and before")
        if page.last is not None and page.after is not None:
            raise Invalid.field("after", "cannot be combined with last: page forward with first and after")
        size = page.first if page.first is not None else page.last
        name = "first" if page.first is not None else "last"
        if size is None:
            return self.limits.default
        if size < 0:
            raise Invalid.field(name, "must not be negative")
        if size > self.limits.maximum:
            raise Invalid.field(name, f"must be at most {self.limits.maximum}")
        return size

    def ordering(self, order: Sequence[Order]) -> tuple[Order, ...]:
        chosen = tuple(order) or self.spec.default_order
        for o in chosen:
            if o.field not in self.spec.sortable:
                raise Invalid.field("orderBy", f"cannot order {self.spec.plural} by {camel(o.field)}")
        return chosen

    # ---- writes ------------------------------------------------------------------------

    async def create(self, actor: Principal, data: Mapping[str, Any]) -> E:
        async with self.uow.transaction():
            reach = require_reach(actor, self.spec.access.create, "create", self.spec)
            values = self._accepted(data, creating=True)
            if self.spec.tenant_field != "id":
                values.setdefault(self.spec.tenant_field, actor.company_id)
            if reach is Reach.OWN and self.spec.owner_field and self.spec.owner_field != "id":
                values.setdefault(self.spec.owner_field, actor.user_id)
            missing = [f.name for f in self.spec.fields if f.required and f.on_create and values.get(f.name) is None]
            if missing:
                raise Invalid({(name,): ["is required"] for name in missing})
            entity = self.spec.model(**values)
            if not covers(self.spec, actor, reach, entity):
                raise Forbidden(f"you may not create this {self.spec.name}")
            await self._run(Hook.BEFORE_CREATE, HookEvent(actor, entity))
            await self._validate(actor, entity)
            await self.store.insert(self.spec, entity)
            await self._run(Hook.AFTER_CREATE, HookEvent(actor, entity))
            self._defer(HookEvent(actor, entity))
            return entity

    async def update(self, actor: Principal, id: uuid.UUID, data: Mapping[str, Any], expected_version: int) -> E:
        async with self.uow.transaction():
            previous, reach = await self._load_for(actor, id, self.spec.access.update, "update")
            check_version(self.spec.name, previous, expected_version)
            changes = self._accepted(data, creating=False)
            self._check_write_rights(actor, previous, changes)
            nulled = [n for n, v in changes.items() if v is None and self.spec.field(n).required]
            if nulled:
                raise Invalid({(name,): ["is required"] for name in nulled})
            entity = dataclasses.replace(previous, **changes)
            if not covers(self.spec, actor, reach, entity):
                raise Forbidden(f"you may not move this {self.spec.name} out of your reach")
            await self._run(Hook.BEFORE_UPDATE, HookEvent(actor, entity, previous))
            await self._validate(actor, entity)
            await self.store.save(self.spec, entity, expected_version)
            await self._run(Hook.AFTER_UPDATE, HookEvent(actor, entity, previous))
            self._defer(HookEvent(actor, entity, previous))
            return entity

    async def delete(self, actor: Principal, id: uuid.UUID, expected_version: int) -> E:
        async with self.uow.transaction():
            previous, _ = await self._load_for(actor, id, self.spec.access.delete, "delete")
            check_version(self.spec.name, previous, expected_version)
            entity = dataclasses.replace(previous, deleted_at=utcnow())
            await self._run(Hook.BEFORE_DELETE, HookEvent(actor, entity, previous))
            await self.store.save(self.spec, entity, expected_version)
            await self._run(Hook.AFTER_DELETE, HookEvent(actor, entity, previous))
            self._defer(HookEvent(actor, entity, previous))
            return entity

    async def restore(self, actor: Principal, id: uuid.UUID) -> E:
        async with self.uow.transaction():
            reach = require_reach(actor, self.spec.access.restore, "restore", self.spec)
            rows = await self.store.get_many(
                self.spec, [id], scope_filter(self.spec, actor, reach), include_deleted=True
            )
            if not rows:
                raise NotFound(self.spec.name, id)
            previous: E = rows[0]
            if previous.deleted_at is None:
                raise Invalid.field("id", f"this {self.spec.name} is not deleted")
            entity = dataclasses.replace(previous, deleted_at=None)
            await self.store.save(self.spec, entity, previous.version)
            return entity

    # ---- the steps ---------------------------------------------------------------------

    def _accepted(self, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        problems: dict[tuple[str, ...], list[str]] = {}
        accepted: dict[str, Any] = {}
        declared = {f.name: f for f in self.spec.fields}
        for name, value in data.items():
            f = declared.get(name)
            if name in SYSTEM_FIELDS or f is None:
                problems[(name,)] = ["is not a field you can set"]
            elif not (f.on_create if creating else f.on_update):
                problems[(name,)] = [f"cannot be set on {'create' if creating else 'update'}"]
            else:
                accepted[name] = value
        if problems:
            raise Invalid(problems)
        return accepted

    def _check_write_rights(self, actor: Principal, previous: E, changes: Mapping[str, Any]) -> None:
        """A frozen entity takes no edit at all; a field whose declaration names who may change
        it refuses everyone else. Sending a field's current value is not a change."""
        changed = [name for name, value in changes.items() if getattr(previous, name) != value]
        if not changed:
            return
        frozen = previous.frozen_because()
        if frozen:
            raise Forbidden(frozen)
        refused = [name for name in changed if not self.spec.field(name).updatable_for(actor)]
        if refused:
            raise Forbidden(f"you may not change {', '.join(map(camel, refused))} of this {self.spec.name}")

    async def _validate(self, actor: Principal, entity: E) -> None:
        problems: dict[tuple[str, ...], list[str]] = {}
        for f in all_fields(self.spec):
            value = getattr(entity, f.name)
            if value is not None and f.name not in SYSTEM_FIELDS:
                found = f.check(value)
                if found:
                    problems[(f.name,)] = found
        for name, message in entity.problems():
            problems.setdefault((name,), []).append(message)
        for f in self.spec.fields:
            target = getattr(entity, f.name)
            if f.references and target is not None and (f.name,) not in problems:
                visible = await self._visible(actor, f, entity)
                if not visible:
                    problems[(f.name,)] = [f"{f.references} {target} was not found"]
        if problems:
            raise Invalid(problems)
        for f in self.spec.fields:
            value = getattr(entity, f.name)
            if not f.is_unique or value is None:
                continue
            if f.suffix_when_taken:
                setattr(entity, f.name, await self._free_value(f, entity, value))
            elif await self._taken(f, entity, value):
                where = f" in this {f.unique_within.removesuffix('_id')}" if f.unique_within else ""
                raise Conflict(f"{camel(f.name)} {value!r} is already taken{where}", field=f.name)

    async def _taken(self, f: Field, entity: E, value: Any) -> bool:
        same = Condition(f.unique_within, Op.EQ, getattr(entity, f.unique_within)) if f.unique_within else None
        taken = all_of(Condition(f.name, Op.EQ, value), same, Not(Condition("id", Op.EQ, entity.id)))
        assert taken is not None
        return await self.store.exists(self.spec, taken)

    async def _free_value(self, f: Field, entity: E, value: str) -> str:
        """``value``, else ``value-2`` ... ``value-9``, else a random suffix: a few look-ups at
        most, however many rows share the start. (Two creates racing for the same value meet
        the unique constraint: one of them is a Conflict.)"""
        for candidate in (value, *(f"{value}-{n}" for n in range(2, 10))):
            if not await self._taken(f, entity, candidate):
                return candidate
        while True:
            candidate = f"{value}-{uuid.uuid4().hex[:8]}"
            if not await self._taken(f, entity, candidate):
                return candidate

    async def _visible(self, actor: Principal, f: Field, entity: E) -> bool:
        """The referenced row exists, the actor may see it, and it is of the same company."""
        assert f.references is not None
        target = self.registry[f.references]
        try:
            scope = read_scope(target, actor)
        except Forbidden:
            return False
        found = await self.store.get_many(target, [getattr(entity, f.name)], scope)
        if not found:
            return False
        return bool(getattr(found[0], target.tenant_field) == getattr(entity, self.spec.tenant_field))

    async def _load_for(
        self, actor: Principal, id: uuid.UUID, rule: Mapping[Any, Reach], action: str
    ) -> tuple[E, Reach]:
        found = await self.get(actor, id)
        if found is None:
            raise NotFound(self.spec.name, id)
        reach = require_reach(actor, rule, action, self.spec)
        if not covers(self.spec, actor, reach, found):
            raise Forbidden(f"you may not {action} this {self.spec.name}")
        return found, reach

    async def _run(self, hook: Hook, event: HookEvent[E]) -> None:
        for fn in self.spec.hooks.get(hook, ()):
            result = fn(event)
            if inspect.isawaitable(result):
                await result

    def _defer(self, event: HookEvent[E]) -> None:
        for fn in self.spec.hooks.get(Hook.AFTER_COMMIT, ()):

            async def run(fn: Any = fn) -> None:
                result = fn(event)
                if inspect.isawaitable(result):
                    await result

            self.uow.defer(run)


__all__ = ["EntityService", "HookEvent"]  # HookEvent lives in entity.py; re-exported for older imports

"""Tenancy and permissions, in one place: every list, loader and write asks here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from domains.kernel.entity import Entity, EntitySpec, Reach, Registry, RoleReach
from domains.kernel.errors import Forbidden
from domains.kernel.principal import Principal
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Related, all_of

_ORDER = {Reach.OWN: 0, Reach.COMPANY: 1, Reach.ALL: 2}


class _TestSwitch:
    scoped = True


_APPLICATION_SCOPE = _TestSwitch()


@contextmanager
def without_application_scope() -> Iterator[None]:
    """TEST ONLY: the reads built inside the block leave out the tenant scope, so that a test
    proves the database's row-level security separates companies by itself. Process-wide (the
    test server runs in a thread of the test's process); nothing but tests may call it."""
    _APPLICATION_SCOPE.scoped = False
    try:
        yield
    finally:
        _APPLICATION_SCOPE.scoped = True


def reach_of(actor: Principal, rule: RoleReach) -> Reach | None:
    granted = [rule[r] for r in actor.roles if r in rule]
    return max(granted, key=_ORDER.__getitem__) if granted else None


def require_reach(actor: Principal, rule: RoleReach, action: str, spec: EntitySpec[Any]) -> Reach:
    reach = reach_of(actor, rule)
    if reach is None:
        raise Forbidden(f"you may not {action} {spec.plural}")
    return reach


def scope_filter(spec: EntitySpec[Any], actor: Principal, reach: Reach) -> Filter | None:
    """The rows ``reach`` covers, as a filter the store ANDs into every statement."""
    if reach is Reach.ALL or not _APPLICATION_SCOPE.scoped:
        return None
    tenant = Condition(spec.tenant_field, Op.EQ, actor.company_id)
    if reach is Reach.COMPANY or spec.owner_field is None:
        return tenant
    return AllOf((tenant, Condition(spec.owner_field, Op.EQ, actor.user_id)))


def read_scope(spec: EntitySpec[Any], actor: Principal) -> Filter | None:
    return scope_filter(spec, actor, require_reach(actor, spec.access.read, "read", spec))


def covers(spec: EntitySpec[Any], actor: Principal, reach: Reach, entity: Entity) -> bool:
    if reach is Reach.ALL:
        return True
    if getattr(entity, spec.tenant_field) != actor.company_id:
        return False
    if reach is Reach.OWN and spec.owner_field is not None:
        return bool(getattr(entity, spec.owner_field) == actor.user_id)
    return True


def scope_relations(spec: EntitySpec[Any], node: Filter | None, actor: Principal, registry: Registry) -> Filter | None:
    """Relation filters only see related rows the actor may read: no existence leaks."""
    if node is None or isinstance(node, Condition):
        return node
    if isinstance(node, AllOf):
        return AllOf(tuple(scope_relations(spec, p, actor, registry) or p for p in node.parts))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(scope_relations(spec, p, actor, registry) or p for p in node.parts))
    if isinstance(node, Not):
        return Not(scope_relations(spec, node.part, actor, registry) or node.part)
    target = registry[spec.relation(node.relation).target]
    inner = all_of(read_scope(target, actor), scope_relations(target, node.filter, actor, registry))
    return Related(node.relation, inner or AllOf(()))

"""The compiled-read planner: what it plans, and what it leaves to the resolver path."""

from __future__ import annotations

import uuid

import pytest

from domains.catalog import build_registry
from domains.kernel.crud import EntityService
from domains.kernel.principal import Principal, Role
from domains.kernel.selection import BelongsTo, Connection, GlobalId, RootConnection, RootObject, Value
from schema.compiled.planner import ReadPlanner
from schema.root import OPERATION_LIMIT_RULES, build_schema
from tests.unit.fakes import FakeAfterCommit, FakeEntityStore

HR = Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR}), "hr@example.com")


@pytest.fixture(scope="module")
def planner() -> ReadPlanner:
    registry = build_registry()
    return ReadPlanner(build_schema(registry), registry, OPERATION_LIMIT_RULES)


@pytest.fixture(scope="module")
def checks() -> dict[str, EntityService]:
    registry = build_registry()
    store = FakeEntityStore(registry)
    return {spec.name: EntityService(spec, store, registry, FakeAfterCommit()) for spec in registry}


def test_a_generated_selection_becomes_a_plan(planner, checks) -> None:
    plan = planner.plan(
        "query Q { page: documents(first: 3) { edges { node { id title owner { email } } } } me { fullName } }",
        None,
        None,
        HR,
        checks,
    )
    assert plan is not None and plan.operation_name == "Q"
    page, me = plan.fields
    assert isinstance(page, RootConnection) and page.connection.key == "page"
    assert page.connection.page.limit == 3 and page.connection.page.entity == "Document"
    (edges,) = page.connection.fields
    (node,) = edges.fields
    assert [type(f) for f in node.node.fields] == [GlobalId, Value, BelongsTo]
    assert isinstance(me, RootObject) and me.id == HR.user_id


def test_has_many_relations_are_connections_with_their_arguments(planner, checks) -> None:
    query = '{ users { edges { node { documents(first: 2, filter: {title: {eq: "x"}}) { totalCount } } } } }'
    plan = planner.plan(query, None, None, HR, checks)
    assert plan is not None
    (root,) = plan.fields
    node = root.connection.fields[0].fields[0].node
    (documents,) = node.fields
    assert isinstance(documents, Connection)
    assert documents.link is not None and documents.link.remote == "owner_id"
    assert documents.page.limit == 2 and documents.page.filter is not None


@pytest.mark.parametrize(
    "query",
    [
        'mutation { deleteDocument(id: "x", expectedVersion: 1) { __typename } }',
        '{ __type(name: "Document") { name } }',
        "{ __schema { queryType { name } } }",
        "{ documents(first: 101) { totalCount } }",  # the kernel's page check fails
        '{ documents(filter: {ownerId: {eq: "x"}}) { totalCount } }',  # the factory's id check fails
        "{ documents { totalCount } ",  # does not parse
        "{ documents { nope } }",  # does not validate
    ],
)
def test_what_the_resolvers_must_answer_is_not_planned(planner, checks, query) -> None:
    assert planner.plan(query, None, None, HR, checks) is None


def test_a_field_the_declarations_do_not_generate_falls_back(planner, checks) -> None:
    """As a hand-written field (``Document.downloadUrl``) would: the planner knows only
    the declared fields, whatever else the GraphQL type has."""
    query = "{ documents { edges { node { title } } } }"
    assert planner.plan(query, None, None, HR, checks) is not None
    declared = planner._fields["Document"]
    planner._fields["Document"] = {k: v for k, v in declared.items() if k != "title"}
    try:
        assert planner.plan(query, None, None, HR, checks) is None
    finally:
        planner._fields["Document"] = declared

"""Compiled reads over HTTP: one SQL statement per root field, the resolver path for the rest,
the same typed errors as the resolver path, and ``COMPILED_READS=false``."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.sql.database import RequestDatabase
from domains.document.model import DocumentKind
from domains.kernel.ids import to_global_id

ADMIN, HR, ALICE, CAROL = "admin@acme.example", "hr@acme.example", "alice@acme.example", "carol@globex.example"


async def _add_documents(demo: Any, owner: str, titles: list[str]) -> None:
    operation = demo.container.operation(RequestDatabase(demo.container.engine))
    documents = operation.services["Document"]
    async with operation.uow.transaction():  # the writes join it: one commit
        for title in titles:
            await documents.create(
                demo.principal(ADMIN),
                {
                    "owner_id": demo.id(owner),
                    "company_id": demo.principal(owner).company_id,
                    "title": title,
                    "kind": DocumentKind.OTHER,
                },
            )


async def _both(gql: Any, resolver_gql: Any, query: str, variables: dict[str, Any] | None = None, *, as_user: str):
    ours = await gql(query, variables, as_user=as_user)
    theirs = await resolver_gql(query, variables, as_user=as_user)
    assert ours.get("data") == theirs.get("data")
    return ours, theirs


NESTED = """query($first: Int!) { documents(first: $first) {
  edges { node { id title owner { email company { name } } } } } }"""

THREE_LEVELS = """{ companies { totalCount edges { node { name
  users(first: 2, orderBy: [{email: ASC}]) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { email documents(first: 1, orderBy: [{title: ASC}]) { totalCount
      edges { node { title } } } } } } } } } }"""


async def test_one_statement_per_root_field(gql, resolver_gql) -> None:
    # compiled: one statement per root field, each also checking the token's user (see
    # test_compiled_viewer); the resolver path's counts include its look-up of that user
    await _add_documents(gql.demo, ALICE, [f"Bulk {i:03}" for i in range(30)])
    for first in (10, 30):
        ours, theirs = await _both(gql, resolver_gql, NESTED, {"first": first}, as_user=ADMIN)
        assert len(ours["data"]["documents"]["edges"]) == first
        assert ours["extensions"]["sql"]["statements"] == 1
        assert theirs["extensions"]["sql"]["statements"] == 4
    ours, theirs = await _both(gql, resolver_gql, THREE_LEVELS, as_user=ADMIN)
    assert ours["data"]["companies"]["totalCount"] == 2
    assert ours["extensions"]["sql"]["statements"] == 1
    assert theirs["extensions"]["sql"]["statements"] == 7
    two_roots = "{ me { email } documents(first: 2) { totalCount } }"
    ours, _ = await _both(gql, resolver_gql, two_roots, as_user=HR)
    assert ours["extensions"]["sql"]["statements"] == 2
    constants = "{ __typename me { email } documents(first: 2) { __typename totalCount } }"
    ours, _ = await _both(gql, resolver_gql, constants, as_user=HR)
    assert ours["extensions"]["sql"]["statements"] == 2  # constants are free


async def test_ids_that_cannot_match_cost_no_statement_but_the_users_check(gql, resolver_gql) -> None:
    company = to_global_id("Company", gql.demo.principal(HR).company_id)
    query = '{ document(id: "nonsense") { id } user(id: $id) { id } __typename }'.replace("$id", f'"{company}"')
    ours, _ = await _both(gql, resolver_gql, query, as_user=HR)
    assert ours["data"] == {"document": None, "user": None, "__typename": "Query"}
    assert ours["extensions"]["sql"]["statements"] == 1


async def test_variables_fragments_aliases_and_directives(gql, resolver_gql) -> None:
    query = """query Q($mine: Boolean!, $first: Int) {
      page: documents(first: $first, orderBy: [{title: ASC}]) {
        ...Counted
        edges { cursor node { ...Title owner @include(if: $mine) { email } title @skip(if: true) } }
      }
      who: me { __typename ... on User { email } }
    }
    fragment Counted on DocumentConnection { __typename totalCount pageInfo { startCursor hasPreviousPage } }
    fragment Title on Document { heading: title kind }"""
    ours, _theirs = await _both(gql, resolver_gql, query, {"mine": True, "first": 2}, as_user=HR)
    assert ours["data"]["who"] == {"__typename": "User", "email": HR}
    assert ours["data"]["page"]["edges"][0]["node"]["owner"]["email"]
    assert ours["extensions"]["sql"]["statements"] == 2
    without, _ = await _both(gql, resolver_gql, query, {"mine": False, "first": 2}, as_user=HR)
    assert "owner" not in without["data"]["page"]["edges"][0]["node"]


async def test_pages_forwards_and_backwards_with_cursors(gql, resolver_gql) -> None:
    await _add_documents(gql.demo, ALICE, ["Führungszeugnis", "履歴書 😀", "Zeugnis"])
    order = "orderBy: [{title: DESC}]"
    first = f"{{ documents(first: 3, {order}) {{ pageInfo {{ endCursor hasNextPage }} edges {{ cursor }} }} }}"
    ours, _ = await _both(gql, resolver_gql, first, as_user=HR)
    end = ours["data"]["documents"]["pageInfo"]["endCursor"]
    for page in (f'first: 2, after: "{end}"', f'last: 2, before: "{end}"', "last: 2"):
        query = f"""{{ documents({page}, {order}) {{ pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
          edges {{ cursor node {{ title }} }} }} }}"""
        ours, _ = await _both(gql, resolver_gql, query, as_user=HR)
        assert ours["extensions"]["sql"]["statements"] == 1
        assert len(ours["data"]["documents"]["edges"]) == 2


@pytest.mark.parametrize(
    "query, variables, code",
    [
        ('{ documents(after: "not a cursor") { totalCount } }', None, "INVALID"),
        ("{ documents(first: 101) { totalCount } }", None, "INVALID"),
        ("{ companies { edges { node { users(first: 101) { totalCount } } } } }", None, "INVALID"),
        (
            "query($f: DocumentFilter) { documents(filter: $f) { totalCount } }",
            {"f": {"ownerId": {"eq": "x"}}},
            "INVALID",
        ),
        ("{ documents(first: 1, last: 1) { totalCount } }", None, "INVALID"),
    ],
)
async def test_errors_in_compiled_selections_are_the_resolver_paths(gql, resolver_gql, query, variables, code) -> None:
    ours = await gql(query, variables, as_user=HR)
    theirs = await resolver_gql(query, variables, as_user=HR)
    ours["errors"][0]["extensions"].pop("requestId", None)
    theirs["errors"][0]["extensions"].pop("requestId", None)
    assert ours["errors"] == theirs["errors"]
    assert ours["errors"][0]["extensions"]["code"] == code
    assert ours["data"] == theirs["data"]


async def test_a_wrongly_typed_filter_value_is_the_resolver_paths_error(gql, resolver_gql) -> None:
    query = "query($f: DocumentFilter) { documents(filter: $f) { totalCount } }"
    variables = {"f": {"dueOn": {"eq": 12}}}
    ours = await gql(query, variables, as_user=HR)
    theirs = await resolver_gql(query, variables, as_user=HR)
    for body in (ours, theirs):
        body["errors"][0].get("extensions", {}).pop("requestId", None)
    assert ours["errors"] == theirs["errors"] and ours["data"] == theirs["data"] is None


async def test_anonymous_callers_get_the_resolver_paths_answer(gql, resolver_gql) -> None:
    ours = await gql("{ documents { totalCount } }")
    theirs = await resolver_gql("{ documents { totalCount } }")
    assert ours == theirs
    assert ours["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_what_is_not_generated_falls_back(gql, resolver_gql) -> None:
    for query in (
        '{ __type(name: "Document") { name } documents { totalCount } }',
        "{ unknownField }",
        'mutation { deleteDocument(id: "x", expectedVersion: 1) { __typename } }',
    ):
        ours = await gql(query, as_user=HR)
        theirs = await resolver_gql(query, as_user=HR)
        assert ours.get("data") == theirs.get("data")
        assert ours.get("errors") == theirs.get("errors")
    # introspection plus one list: the resolver path's single statement, not a compiled one
    ours = await gql('{ __type(name: "Document") { name } documents { edges { node { id } } } }', as_user=HR)
    assert ours["extensions"]["sql"]["statements"] == 2 and ours["data"]["__type"] == {"name": "Document"}


async def test_get_requests_are_compiled_too(gql) -> None:
    response = await gql.http.get(
        "/graphql",
        params={"query": "query($n: Int) { documents(first: $n) { totalCount } }", "variables": '{"n": 1}'},
        headers={"Authorization": f"Bearer {gql.demo.token(HR)}", "Accept": "application/json"},
    )
    body = response.json()
    assert body["data"] == {"documents": {"totalCount": 3}}
    assert body["extensions"]["sql"]["statements"] == 1

"""The entity-schema factory over HTTP: queries, filters, pages, mutations, errors, SQL counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from adapters.sql.database import RequestDatabase
from domains.document.model import DocumentKind
from domains.kernel.ids import to_global_id

ADMIN, HR, ALICE, BOB = "admin@acme.example", "hr@acme.example", "alice@acme.example", "bob@acme.example"
GLOBEX_HR, CAROL = "hr@globex.example", "carol@globex.example"

DOCUMENT_TITLES = """query($filter: DocumentFilter, $orderBy: [DocumentOrder!]) {
  documents(filter: $filter, orderBy: $orderBy) { totalCount edges { node { title } } }
}"""


async def _titles(gql, filter: dict[str, Any] | None = None, as_user: str = ADMIN, order=None) -> list[str]:
    order = order or [{"title": "ASC"}, {"createdAt": "ASC"}]
    data = await gql.data(DOCUMENT_TITLES, {"filter": filter, "orderBy": order}, as_user=as_user)
    titles = [e["node"]["title"] for e in data["documents"]["edges"]]
    assert data["documents"]["totalCount"] == len(titles)
    return titles


async def _add_documents(demo, owner: str, count: int, title: str = "Bulk") -> None:
    operation = demo.container.operation(RequestDatabase(demo.container.engine))
    documents = operation.services["Document"]
    principal = demo.principal(ADMIN)
    async with operation.uow.transaction():  # the writes join it: one commit
        for i in range(count):
            await documents.create(
                principal,
                {
                    "owner_id": demo.id(owner),
                    "company_id": demo.principal(owner).company_id,
                    "title": f"{title} {i:03}",
                    "kind": DocumentKind.OTHER,
                },
            )


# ---- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter, expected",
    [
        ({"title": {"eq": "Passport copy"}}, ["Passport copy"]),
        ({"kind": {"ne": "CONTRACT"}}, ["First-aid certificate", "Passport copy", "Tax form W-4"]),
        ({"kind": {"in": ["ID", "TAX_FORM"]}}, ["Passport copy", "Tax form W-4"]),
        ({"kind": {"nin": ["CONTRACT", "ID"]}}, ["First-aid certificate", "Tax form W-4"]),
        ({"title": {"lt": "F"}}, ["Employment contract", "Employment contract"]),
        (
            {"title": {"lte": "First-aid certificate"}},
            ["Employment contract", "Employment contract", "First-aid certificate"],
        ),
        ({"title": {"gt": "Passport copy"}}, ["Tax form W-4"]),
        ({"title": {"gte": "Passport copy"}}, ["Passport copy", "Tax form W-4"]),
        ({"title": {"like": "%copy"}}, ["Passport copy"]),
        ({"title": {"like": "%COPY"}}, []),
        ({"title": {"ilike": "%COPY"}}, ["Passport copy"]),
        ({"note": {"isNull": False}}, []),
        ({"dueOn": {"isNull": False}, "kind": {"eq": "ID"}}, ["Passport copy"]),
        ({"owner": {"email": {"eq": CAROL}}}, ["Employment contract"]),
        ({"owner": {"company": {"name": {"eq": "Globex"}}}}, ["Employment contract", "First-aid certificate"]),
        ({"or": [{"title": {"eq": "Passport copy"}}, {"kind": {"eq": "TAX_FORM"}}]}, ["Passport copy", "Tax form W-4"]),
        ({"and": [{"title": {"ilike": "%contract%"}}, {"owner": {"email": {"eq": ALICE}}}]}, ["Employment contract"]),
        ({"not": {"title": {"ilike": "%contract%"}}}, ["First-aid certificate", "Passport copy", "Tax form W-4"]),
    ],
)
async def test_filters(gql, filter, expected) -> None:
    assert await _titles(gql, filter) == expected


async def test_filter_on_ids_and_dates(gql) -> None:
    alice = to_global_id("User", gql.demo.id(ALICE))
    assert await _titles(gql, {"ownerId": {"eq": alice}}) == ["Employment contract", "Passport copy"]
    assert await _titles(gql, {"ownerId": {"nin": [alice]}, "company": {"name": {"eq": "Acme Corp"}}}) == [
        "Tax form W-4"
    ]
    data = await gql.data("{ documents(orderBy: [{dueOn: ASC}]) { edges { node { dueOn } } } }", as_user=ADMIN)
    first_due = data["documents"]["edges"][0]["node"]["dueOn"]
    assert await _titles(gql, {"dueOn": {"lte": first_due}}) == ["Passport copy"]
    body = await gql(DOCUMENT_TITLES, {"filter": {"ownerId": {"eq": "nonsense"}}}, as_user=ADMIN)
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID",
        "fields": [{"path": ["filter.ownerId.eq"], "message": "is not a valid id"}],
    }


async def test_has_many_relation_filter_gives_no_duplicates(gql) -> None:
    query = """{ companies(filter: {documents: {kind: {in: [CONTRACT, ID, TAX_FORM]}}}) {
        totalCount edges { node { name } } } }"""
    data = await gql.data(query, as_user=ADMIN)
    assert data["companies"]["totalCount"] == 2
    assert [e["node"]["name"] for e in data["companies"]["edges"]] == ["Acme Corp", "Globex"]


async def test_relation_filters_do_not_see_what_the_principal_cannot(gql) -> None:
    # Alice may see her colleagues, not their documents: Bob's tax form must not reveal Bob.
    query = '{ users(filter: {documents: {title: {eq: "Tax form W-4"}}}) { totalCount } }'
    assert (await gql.data(query, as_user=ALICE))["users"]["totalCount"] == 0
    assert (await gql.data(query, as_user=HR))["users"]["totalCount"] == 1


# ---- ordering and pages --------------------------------------------------------------------


async def test_ordering_by_several_keys(gql) -> None:
    order = [{"kind": "ASC"}, {"title": "DESC"}]
    titles = await _titles(gql, None, order=order)
    assert titles == [
        "First-aid certificate",
        "Employment contract",
        "Employment contract",
        "Passport copy",
        "Tax form W-4",
    ]
    body = await gql(DOCUMENT_TITLES, {"orderBy": [{"title": "ASC", "kind": "DESC"}]}, as_user=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"


PEOPLE = """query($first: Int, $after: String, $last: Int, $before: String) {
  users(orderBy: [{fullName: ASC}], first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { fullName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_pages_forwards_and_backwards(gql) -> None:
    everyone = await gql.data(PEOPLE, {"first": 100}, as_user=ADMIN)
    names = [e["node"]["fullName"] for e in everyone["users"]["edges"]]
    assert len(names) == 7 and names == sorted(names)

    forwards, after = [], None
    while True:
        page = (await gql.data(PEOPLE, {"first": 3, "after": after}, as_user=ADMIN))["users"]
        forwards += [e["node"]["fullName"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forwards == names

    backwards, before = [], None
    while True:
        page = (await gql.data(PEOPLE, {"last": 3, "before": before}, as_user=ADMIN))["users"]
        backwards = [e["node"]["fullName"] for e in page["edges"]] + backwards
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == names


async def test_page_size_default_and_maximum(gql) -> None:
    await _add_documents(gql.demo, ALICE, 25)
    data = await gql.data("{ documents { edges { node { id } } pageInfo { hasNextPage } } }", as_user=ADMIN)
    assert len(data["documents"]["edges"]) == 20
    assert data["documents"]["pageInfo"]["hasNextPage"] is True
    body = await gql("{ documents(first: 101) { edges { node { id } } } }", as_user=ADMIN)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID"
    assert "at most 100" in error["message"]
    body = await gql("{ documents(first: 2, last: 2) { edges { node { id } } } }", as_user=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"


# ---- reads: tenancy and roles --------------------------------------------------------------


async def test_who_sees_which_documents(gql) -> None:
    assert await _titles(gql, as_user=ALICE) == ["Employment contract", "Passport copy"]
    assert await _titles(gql, as_user=HR) == ["Employment contract", "Passport copy", "Tax form W-4"]
    assert len(await _titles(gql, as_user=ADMIN)) == 5
    assert await _titles(gql, as_user=CAROL) == ["Employment contract"]


async def test_an_id_from_another_company_is_like_a_missing_one(gql) -> None:
    acme_doc = await gql.data("{ documents(first: 1) { edges { node { id version } } } }", as_user=HR)
    node = acme_doc["documents"]["edges"][0]["node"]
    missing = to_global_id("Document", uuid.uuid4())
    read = "query($id: ID!) { document(id: $id) { title } node(id: $id) { id } }"
    assert await gql.data(read, {"id": node["id"]}, as_user=GLOBEX_HR) == {"document": None, "node": None}
    assert await gql.data(read, {"id": missing}, as_user=GLOBEX_HR) == {"document": None, "node": None}

    update = """mutation($id: ID!) { updateDocument(id: $id, input: {title: "Mine now"}, expectedVersion: 1) {
      __typename ... on Error { code message } } }"""
    foreign = (await gql.data(update, {"id": node["id"]}, as_user=GLOBEX_HR))["updateDocument"]
    absent = (await gql.data(update, {"id": missing}, as_user=GLOBEX_HR))["updateDocument"]
    assert foreign["__typename"] == absent["__typename"] == "NotFoundError"
    assert foreign["code"] == absent["code"] == "NOT_FOUND"
    assert await _titles(gql, {"title": {"eq": "Mine now"}}) == []


async def test_node_resolves_any_type(gql) -> None:
    me = await gql.data("{ me { id company { id } } }", as_user=BOB)
    query = """query($a: ID!, $b: ID!) {
      a: node(id: $a) { __typename id } b: node(id: $b) { __typename ... on Company { name } } }"""
    data = await gql.data(query, {"a": me["me"]["id"], "b": me["me"]["company"]["id"]}, as_user=BOB)
    assert data["a"] == {"__typename": "User", "id": me["me"]["id"]}
    assert data["b"] == {"__typename": "Company", "name": "Acme Corp"}


# ---- mutations and their typed errors --------------------------------------------------------

RESULT = """__typename
  ... on DocumentPayload { document { id title status version owner { email } } }
  ... on Error { code message }
  ... on ValidationError { fields { path message } }
  ... on ConflictError { currentVersion field }
  ... on InvalidTransitionError { current target }"""
CREATE_DOCUMENT = f"mutation($input: CreateDocumentInput!) {{ createDocument(input: $input) {{ {RESULT} }} }}"
UPDATE_DOCUMENT = f"""mutation($id: ID!, $input: UpdateDocumentInput!, $v: Int!) {{
  updateDocument(id: $id, input: $input, expectedVersion: $v) {{ {RESULT} }} }}"""
DELETE_DOCUMENT = f"mutation($id: ID!, $v: Int!) {{ deleteDocument(id: $id, expectedVersion: $v) {{ {RESULT} }} }}"
RESTORE_DOCUMENT = f"mutation($id: ID!) {{ restoreDocument(id: $id) {{ {RESULT} }} }}"


async def _create_document(gql, as_user: str = HR, owner: str = ALICE, title: str = "Offer letter") -> dict[str, Any]:
    input = {"ownerId": to_global_id("User", gql.demo.id(owner)), "title": title, "kind": "CONTRACT"}
    result = (await gql.data(CREATE_DOCUMENT, {"input": input}, as_user=as_user))["createDocument"]
    assert result["__typename"] == "DocumentPayload", result
    return result["document"]


async def test_create_update_delete_restore(gql) -> None:
    document = await _create_document(gql)
    assert document["version"] == 1 and document["status"] == "REQUESTED"
    assert document["owner"] == {"email": ALICE}

    updated = (
        await gql.data(UPDATE_DOCUMENT, {"id": document["id"], "input": {"title": "Signed offer"}, "v": 1}, as_user=HR)
    )["updateDocument"]
    assert updated["document"]["title"] == "Signed offer" and updated["document"]["version"] == 2

    stale = (await gql.data(UPDATE_DOCUMENT, {"id": document["id"], "input": {"title": "Lost"}, "v": 1}, as_user=HR))[
        "updateDocument"
    ]
    assert stale["__typename"] == "ConflictError" and stale["currentVersion"] == 2
    assert await _titles(gql, {"title": {"eq": "Lost"}}) == []

    deleted = (await gql.data(DELETE_DOCUMENT, {"id": document["id"], "v": 2}, as_user=HR))["deleteDocument"]
    assert deleted["__typename"] == "DocumentPayload"
    read = "query($id: ID!) { document(id: $id) { title } }"
    assert (await gql.data(read, {"id": document["id"]}, as_user=HR))["document"] is None
    assert await _titles(gql, {"title": {"eq": "Signed offer"}}) == []

    refused = (await gql.data(RESTORE_DOCUMENT, {"id": document["id"]}, as_user=HR))["restoreDocument"]
    assert refused["__typename"] == "ForbiddenError"
    restored = (await gql.data(RESTORE_DOCUMENT, {"id": document["id"]}, as_user=ADMIN))["restoreDocument"]
    assert restored["__typename"] == "DocumentPayload" and restored["document"]["version"] == 4
    assert (await gql.data(read, {"id": document["id"]}, as_user=HR))["document"] == {"title": "Signed offer"}


async def test_validation_error_lists_each_field_and_changes_nothing(gql) -> None:
    mutation = """mutation($input: CreateUserInput!) { createUser(input: $input) {
      __typename ... on ValidationError { code fields { path message } } } }"""
    input = {"email": "not-an-email", "fullName": "   ", "role": "EMPLOYEE"}
    result = (await gql.data(mutation, {"input": input}, as_user=HR))["createUser"]
    assert result["__typename"] == "ValidationError" and result["code"] == "INVALID"
    assert {(tuple(f["path"]), f["message"]) for f in result["fields"]} == {
        (("email",), "has an invalid format"),
        (("fullName",), "must not be blank"),
    }
    users = await gql.data("{ users { totalCount } }", as_user=HR)
    assert users["users"]["totalCount"] == 4

    long_title = await gql.data(
        UPDATE_DOCUMENT,
        {"id": to_global_id("Document", uuid.uuid4()), "input": {"title": "x" * 201}, "v": 1},
        as_user=HR,
    )
    assert long_title["updateDocument"]["__typename"] == "NotFoundError"
    bad_id = await gql.data(UPDATE_DOCUMENT, {"id": "garbage", "input": {}, "v": 1}, as_user=HR)
    assert bad_id["updateDocument"]["fields"] == [{"path": ["id"], "message": "is not a valid id"}]


async def test_unique_fields_conflict_after_normalisation(gql) -> None:
    mutation = """mutation($input: CreateUserInput!) { createUser(input: $input) {
      __typename ... on UserPayload { user { email } } ... on ConflictError { field } } }"""
    duplicate = {"email": "  ALICE@acme.example ", "fullName": "Alice Again", "role": "EMPLOYEE"}
    result = (await gql.data(mutation, {"input": duplicate}, as_user=HR))["createUser"]
    assert result == {"__typename": "ConflictError", "field": "email"}
    fresh = {"email": "  New.Person@ACME.example", "fullName": "New Person", "role": "EMPLOYEE"}
    result = (await gql.data(mutation, {"input": fresh}, as_user=HR))["createUser"]
    assert result == {"__typename": "UserPayload", "user": {"email": "new.person@acme.example"}}


async def test_company_slug_is_derived_by_a_hook(gql) -> None:
    mutation = """mutation($name: String!) { createCompany(input: {name: $name}) {
      __typename ... on CompanyPayload { company { name slug } } } }"""
    created = (await gql.data(mutation, {"name": "Initech Systems, Inc."}, as_user=ADMIN))["createCompany"]
    assert created["company"] == {"name": "Initech Systems, Inc.", "slug": "initech-systems-inc"}
    refused = (await gql.data(mutation, {"name": "Not Allowed"}, as_user=HR))["createCompany"]
    assert refused["__typename"] == "ForbiddenError"


async def test_renaming_a_company_onto_another_ones_name_tells_nothing(gql) -> None:
    """HR of Acme could learn, by a ConflictError "already taken", which other tenants exist
    (30 guesses in one request); names are free now, and the slug the system chose stays."""
    rename = """mutation($id: ID!, $name: String!, $v: Int!) {
      updateCompany(id: $id, input: {name: $name}, expectedVersion: $v) {
        __typename ... on CompanyPayload { company { name slug version } } ... on Error { code message } } }"""
    acme = (await gql.data("{ me { company { id version } } }", as_user=HR))["me"]["company"]
    version = acme["version"]
    for name in ("No Such Company", "GLOBEX!", "Globex"):  # neither, its slug, the name another has
        renamed = (await gql.data(rename, {"id": acme["id"], "name": name, "v": version}, as_user=HR))
        assert renamed["updateCompany"] == {
            "__typename": "CompanyPayload",
            "company": {"name": name, "slug": "acme-corp", "version": version + 1},
        }
        version += 1
    slug = '{ companies(filter: {name: {eq: "Globex"}}) { edges { node { slug } } } }'
    both = (await gql.data(slug, as_user=ADMIN))["companies"]["edges"]
    assert sorted(e["node"]["slug"] for e in both) == ["acme-corp", "globex"]
    create = """mutation($name: String!) { createCompany(input: {name: $name}) {
      ... on CompanyPayload { company { slug } } } }"""
    created = (await gql.data(create, {"name": "Globex"}, as_user=ADMIN))["createCompany"]
    assert created == {"company": {"slug": "globex-2"}}
    writes_slug = await gql(
        'mutation($id: ID!) { updateCompany(id: $id, input: {slug: "globex"}, expectedVersion: 1) { __typename } }',
        {"id": acme["id"]},
        as_user=HR,
    )
    assert writes_slug["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # not an input field


async def test_role_permissions_on_writes(gql) -> None:
    create_user = """mutation { createUser(input: {email: "x@acme.example", fullName: "X", role: EMPLOYEE}) {
      __typename } }"""
    assert (await gql.data(create_user, as_user=ALICE))["createUser"]["__typename"] == "ForbiddenError"

    own = await _create_document(gql, as_user=ALICE, owner=ALICE, title="My certificate")
    assert own["owner"] == {"email": ALICE}
    for_bob = await gql.data(
        CREATE_DOCUMENT,
        {"input": {"ownerId": to_global_id("User", gql.demo.id(BOB)), "title": "Bob's", "kind": "OTHER"}},
        as_user=ALICE,
    )
    # Alice cannot even see Bob's documents, but may see Bob: creating one for him is forbidden.
    assert for_bob["createDocument"]["__typename"] == "ForbiddenError"

    me = await gql.data("{ me { id version } }", as_user=BOB)
    promote = """mutation($id: ID!, $v: Int!) { updateUser(id: $id, input: {role: HR}, expectedVersion: $v) {
      __typename ... on UserPayload { user { role fullName } } } }"""
    assert (await gql.data(promote, {"id": me["me"]["id"], "v": 1}, as_user=BOB))["updateUser"]["__typename"] == (
        "ForbiddenError"
    )
    rename = """mutation($id: ID!) { updateUser(id: $id, input: {fullName: "Robert Okafor"}, expectedVersion: 1) {
      __typename ... on UserPayload { user { fullName } } } }"""
    renamed = (await gql.data(rename, {"id": me["me"]["id"]}, as_user=BOB))["updateUser"]
    assert renamed == {"__typename": "UserPayload", "user": {"fullName": "Robert Okafor"}}


async def test_cross_tenant_reference_is_a_validation_error(gql) -> None:
    input = {"ownerId": to_global_id("User", gql.demo.id(ALICE)), "title": "Sneaky", "kind": "OTHER"}
    result = (await gql.data(CREATE_DOCUMENT, {"input": input}, as_user=GLOBEX_HR))["createDocument"]
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["path"] == ["ownerId"]
    assert await _titles(gql, {"title": {"eq": "Sneaky"}}) == []


async def test_status_is_not_generic_input(gql) -> None:
    """The status moves only through the document commands (tests/api/test_documents.py)."""
    document = await _create_document(gql)
    update = """mutation($id: ID!) {
      updateDocument(id: $id, input: { status: UPLOADED }, expectedVersion: 1) { __typename } }"""
    body = await gql(update, {"id": document["id"]}, as_user=ALICE)
    assert body["data"] is None
    assert "not to include unknown field 'status'" in body["errors"][0]["message"]
    read = "query($id: ID!) { document(id: $id) { status version } }"
    unchanged = (await gql.data(read, {"id": document["id"]}, as_user=HR))["document"]
    assert unchanged == {"status": "REQUESTED", "version": 1}


async def test_users_without_manager(gql) -> None:
    data = await gql.data("{ usersWithoutManager { totalCount } }", as_user=HR)
    assert data["usersWithoutManager"]["totalCount"] == 4
    me = await gql.data("{ me { id } }", as_user=HR)
    bob = to_global_id("User", gql.demo.id(BOB))
    mutation = """mutation($id: ID!, $m: ID!) { updateUser(id: $id, input: {managerId: $m}, expectedVersion: 1) {
      __typename ... on UserPayload { user { manager { email } } } } }"""
    result = (await gql.data(mutation, {"id": bob, "m": me["me"]["id"]}, as_user=HR))["updateUser"]
    assert result == {"__typename": "UserPayload", "user": {"manager": {"email": HR}}}
    data = await gql.data("{ usersWithoutManager { totalCount } }", as_user=HR)
    assert data["usersWithoutManager"]["totalCount"] == 3


# ---- SQL statements per request -----------------------------------------------------------

NESTED = """query($first: Int!) { documents(first: $first) {
  edges { node { id title owner { email company { name } } } } } }"""


# These count the resolver path's statements (batched loaders); the compiled path's one
# statement per root field is counted in test_compiled_reads.py.


async def test_statement_count_does_not_grow_with_page_size(resolver_gql) -> None:
    gql = resolver_gql
    await _add_documents(gql.demo, ALICE, 60)
    await _add_documents(gql.demo, CAROL, 60)
    for first in (10, 100):
        body = await gql(NESTED, {"first": first}, as_user=ADMIN)
        assert not body.get("errors")
        assert len(body["data"]["documents"]["edges"]) == first
        owners = {e["node"]["owner"]["company"]["name"] for e in body["data"]["documents"]["edges"]}
        assert owners  # the token's user, documents, their owners, the owners' companies: one statement each
        assert body["extensions"]["sql"]["statements"] == 4


async def test_total_count_costs_a_statement_only_when_selected(resolver_gql) -> None:
    gql = resolver_gql
    without = await gql("{ documents { edges { node { id } } } }", as_user=HR)
    with_count = await gql("{ documents { totalCount edges { node { id } } } }", as_user=HR)
    # one of them is the look-up of the token's user, which every signed-in request makes
    assert without["extensions"]["sql"]["statements"] == 2
    assert with_count["extensions"]["sql"]["statements"] == 3


async def test_one_to_many_relations_are_batched_and_paginated(resolver_gql) -> None:
    gql = resolver_gql
    await _add_documents(gql.demo, ALICE, 5)
    query = """{ companies { edges { node { name
      users(first: 2, orderBy: [{email: ASC}]) { totalCount pageInfo { hasNextPage }
        edges { node { email documents(first: 1, orderBy: [{title: ASC}]) { totalCount edges { node { title } } } } } }
    } } } }"""
    body = await gql(query, as_user=ADMIN)
    assert not body.get("errors"), body
    companies = {e["node"]["name"]: e["node"]["users"] for e in body["data"]["companies"]["edges"]}
    acme = companies["Acme Corp"]
    assert acme["totalCount"] == 4 and acme["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["email"] for e in acme["edges"]] == [ADMIN, ALICE]
    alice_docs = acme["edges"][1]["node"]["documents"]
    assert alice_docs["totalCount"] == 7 and alice_docs["edges"] == [{"node": {"title": "Bulk 000"}}]
    # the token's user, companies, users page, users count, documents page, documents count
    assert body["extensions"]["sql"]["statements"] == 6


async def test_sibling_fields_read_concurrently(gql) -> None:
    fields = " ".join(
        f"d{i}: documents(first: {i + 1}) {{ totalCount edges {{ node {{ owner {{ email }} }} }} }}" for i in range(12)
    )
    body = await gql("{ " + fields + " }", as_user=ADMIN)
    assert not body.get("errors"), body
    assert all(body["data"][f"d{i}"]["totalCount"] == 5 for i in range(12))
    assert [len(body["data"][f"d{i}"]["edges"]) for i in range(12)] == [min(i + 1, 5) for i in range(12)]

"""Strict inputs over HTTP: cursors a client made up, and the combinations that would be ignored."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

ADMIN, HR = "admin@acme.example", "hr@acme.example"

DOCUMENTS_BY_DUE_DATE = """query($first: Int, $after: String, $last: Int, $before: String) {
  documents(orderBy: [{dueOn: ASC}], first: $first, after: $after, last: $last, before: $before) {
    edges { node { title } }
  }
}"""

NESTED_DOCUMENTS = """query($after: String) {
  users(first: 3) { edges { node { documents(orderBy: [{dueOn: ASC}], first: 1, after: $after) {
    edges { node { title } } } } } }
}"""


def forged(*values: Any) -> str:
    """A cursor in the service's own encoding, holding whatever values a client chose."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def _invalid_argument(body: dict[str, Any], argument: str) -> dict[str, Any]:
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID", error
    assert [f["path"] for f in error["extensions"]["fields"]] == [[argument]]
    return dict(error)


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 2, "before": "garbage"}, "before"),
        ({"first": 2, "before": forged({"d": "2024-01-01"}, {"u": str(uuid.uuid4())})}, "before"),
        ({"last": 2, "after": "garbage"}, "after"),
    ],
)
async def test_a_cursor_on_the_wrong_side_is_refused_not_ignored(gql, variables, argument) -> None:
    body = await gql(DOCUMENTS_BY_DUE_DATE, variables, as_user=ADMIN)
    error = _invalid_argument(body, argument)
    assert "cannot be combined" in error["message"]
    assert body["data"] is None


BAD_CURSORS = [
    forged("not a date", {"u": str(uuid.uuid4())}),  # a string for dueOn
    forged({"nested": {"object": 1}}, {"u": str(uuid.uuid4())}),  # an object
    forged({"d": 20240101}, {"u": str(uuid.uuid4())}),  # the date tag with a number inside
    forged({"d": "2024-13-45"}, {"u": str(uuid.uuid4())}),  # the date tag with no date inside
    forged({"d": "2024-01-01"}, "not an id"),  # the tie-breaker is not an id
    forged({"d": "2024-01-01"}, {"u": 7}),
    forged(True, {"u": str(uuid.uuid4())}),
    forged({"d": "2024-01-01"}),  # too short
    "garbage",
    "",
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize(("size", "argument"), [("first", "after"), ("last", "before")])
async def test_a_cursor_of_the_wrong_shape_is_invalid_naming_the_argument(gql, cursor, size, argument) -> None:
    body = await gql(DOCUMENTS_BY_DUE_DATE, {size: 2, argument: cursor}, as_user=ADMIN)
    error = _invalid_argument(body, argument)
    assert error["message"] == f"{argument}: is not a valid cursor for this list and ordering"


@pytest.mark.parametrize("cursor", BAD_CURSORS[:4])
async def test_a_forged_cursor_in_a_nested_connection_is_invalid_too(gql, cursor) -> None:
    body = await gql(NESTED_DOCUMENTS, {"after": cursor}, as_user=HR)
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"INVALID"}, body["errors"]
    assert all(e["extensions"]["fields"][0]["path"] == ["after"] for e in body["errors"])


async def test_a_well_formed_cursor_still_pages(gql) -> None:
    first = await gql.data(
        DOCUMENTS_BY_DUE_DATE.replace("edges { node { title } }", "edges { cursor node { title } }"),
        {"first": 2},
        as_user=ADMIN,
    )
    cursor = first["documents"]["edges"][-1]["cursor"]
    rest = await gql.data(DOCUMENTS_BY_DUE_DATE, {"first": 100, "after": cursor}, as_user=ADMIN)
    everyone = await gql.data(DOCUMENTS_BY_DUE_DATE, {"first": 100}, as_user=ADMIN)
    titles = [e["node"]["title"] for e in first["documents"]["edges"] + rest["documents"]["edges"]]
    assert titles == [e["node"]["title"] for e in everyone["documents"]["edges"]]


# ---- uniqueness within a company: no cross-company existence oracle ---------------------------

CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  __typename ... on UserPayload { user { email company { name } } } ... on Error { code message } } }"""
GLOBEX_HR = "hr@globex.example"


async def test_another_companys_email_tells_nothing(gql) -> None:
    taken_elsewhere = {"email": "alice@acme.example", "fullName": "Alice of Globex", "role": "EMPLOYEE"}
    result = (await gql.data(CREATE_USER, {"input": taken_elsewhere}, as_user=GLOBEX_HR))["createUser"]
    assert result["__typename"] == "UserPayload"
    assert result["user"] == {"email": "alice@acme.example", "company": {"name": "Globex"}}
    # and the same address is still taken for a second Globex person, and for Acme
    again = (await gql.data(CREATE_USER, {"input": taken_elsewhere}, as_user=GLOBEX_HR))["createUser"]
    assert again == {
        "__typename": "ConflictError",
        "code": "CONFLICT",
        "message": "email 'alice@acme.example' is already taken in this company",
    }
    at_acme = (await gql.data(CREATE_USER, {"input": taken_elsewhere}, as_user=HR))["createUser"]
    assert at_acme["__typename"] == "ConflictError"


async def test_an_email_update_onto_another_companys_address_is_allowed(gql) -> None:
    carols = '{ users(filter: {email: {eq: "carol@globex.example"}}) { edges { node { id version } } } }'
    people = await gql.data(carols, as_user=GLOBEX_HR)
    carol = people["users"]["edges"][0]["node"]
    update = """mutation($id: ID!, $v: Int!) {
      updateUser(id: $id, input: {email: "bob@acme.example"}, expectedVersion: $v) {
      __typename ... on UserPayload { user { email } } ... on Error { code } } }"""
    result = (await gql.data(update, {"id": carol["id"], "v": carol["version"]}, as_user=GLOBEX_HR))["updateUser"]
    assert result == {"__typename": "UserPayload", "user": {"email": "bob@acme.example"}}

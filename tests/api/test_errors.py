"""Every error a client can provoke: a stable code, words for the client (never Python's),
a one-line INFO log without a traceback; only our own faults are ERROR. Nothing changes."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domains.kernel.crud import EntityService
from domains.kernel.ids import to_global_id

HR = "hr@acme.example"
CODES = {
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "QUERY_TOO_COMPLEX",
    "INVALID",
    "NOT_FOUND",
    "FORBIDDEN",
    "CONFLICT",
    "SUBSCRIPTION_REQUIRES_WEBSOCKET",
}
# Words of Python's exceptions, not of this API.
PYTHON_TEXT = (
    "isoformat",
    "invalid literal",
    "Traceback",
    "NoneType",
    "object has no attribute",
    "not subscriptable",
    "positional argument",
    "keyword argument",
    "KeyError",
    "ValueError",
    "TypeError",
    "Internal server error",
)

DUE_ON = "query($d: Date) { documents(filter: {dueOn: {eq: $d}}) { totalCount } }"
CREATED = "query($t: DateTime) { documents(filter: {createdAt: {gt: $t}}) { totalCount } }"
CREATE_DOCUMENT = """mutation($owner: ID!, $due: Date) { createDocument(input: {ownerId: $owner, title: "Fuzz",
  kind: CONTRACT, dueOn: $due}) { __typename ... on Error { code message } } }"""

MALFORMED: list[tuple[str, dict[str, Any] | None]] = [
    # not GraphQL at all
    ("{", None),
    ("}", None),
    ("{ me { email }", None),
    ("query {", None),
    ("{ me { email } } }", None),
    ('{ documents(filter: {title: {eq: "unterminated}) { totalCount } }', None),
    ("{ me(: 1) { email } }", None),
    ("fragment on on on { x }", None),
    ("{ ...  }", None),
    ("\u0000", None),
    ("subscription { x }", None),
    ("subscription { workflowStatusChanged { eventId } }", None),  # valid, but not over HTTP
    ("mutation", None),
    ("{ documents(first: 1.5.5) { totalCount } }", None),
    ("{ documents(first: 0x10) { totalCount } }", None),
    # well-formed, but not this schema
    ("{ nope }", None),
    ("{ me { nope } }", None),
    ("{ me }", None),
    ("{ me { email { x } } }", None),
    ("{ documents(nope: 1) { totalCount } }", None),
    ('{ documents(first: "ten") { totalCount } }', None),
    ("{ documents(first: 1.5) { totalCount } }", None),
    ("{ documents(first: 99999999999) { totalCount } }", None),
    ('{ documents(filter: {status: {eq: "UPLOADED"}}) { totalCount } }', None),
    ("{ documents(filter: {status: {eq: NOPE}}) { totalCount } }", None),
    ('{ documents(filter: {dueOn: {eq: "31/01/2026"}}) { totalCount } }', None),
    ('{ documents(filter: {dueOn: {eq: "2026-02-30"}}) { totalCount } }', None),
    ("{ documents(filter: {dueOn: {eq: 20260131}}) { totalCount } }", None),
    ('{ documents(filter: {createdAt: {gt: "yesterday"}}) { totalCount } }', None),
    ('{ documents(filter: {createdAt: {gt: "2026-01-01T25:00"}}) { totalCount } }', None),
    ('{ document(id: "x") { title } }', None),
    ("{ document { title } }", None),
    ("query($x: Int) { me { email } }", None),
    ("query($x: Nope) { me { email } }", None),
    ("{ me { ...Missing } }", None),
    ("fragment F on User { email } { me { email } }", None),
    ("fragment F on User { ...F } { me { ...F } }", None),
    ("mutation { createCompany(input: {}) { __typename } }", None),
    ("mutation { createCompany(input: {name: 5}) { __typename } }", None),
    ('mutation { deleteCompany(id: "x") { __typename } }', None),
    ("{ a: me { email } a: documents { totalCount } }", None),
    ("{ " + "me { manager { " * 12 + "email" + " } }" * 12 + " }", None),
    # variables that do not fit
    (DUE_ON, {"d": "x"}),
    (DUE_ON, {"d": "2026-13-01"}),
    (DUE_ON, {"d": "2026-1-x"}),
    (DUE_ON, {"d": "\uff12\uff10\uff12\uff16-01-01"}),  # full-width digits
    (DUE_ON, {"d": 20260101}),
    (DUE_ON, {"d": ["2026-01-01"]}),
    (DUE_ON, {"d": {"y": 2026}}),
    (CREATED, {"t": "2026-01-01Tab"}),
    (CREATED, {"t": "2026-01-01T10:00:00+99:00"}),
    (CREATED, {"t": "2026-01-01T10:00:00"}),  # no offset: no instant
    (CREATED, {"t": True}),
    ("query($n: Int!) { documents(first: $n) { totalCount } }", {}),
    ("query($n: Int!) { documents(first: $n) { totalCount } }", {"n": "ten"}),
    ("query($n: Int!) { documents(first: $n) { totalCount } }", {"n": 2**40}),
    ("query($n: Int!) { documents(first: $n) { totalCount } }", {"n": -1}),
    ("query($a: String) { documents(after: $a) { totalCount } }", {"a": "garbage"}),
    ("query($i: ID!) { document(id: $i) { title } }", {"i": "RG9jdW1lbnQ6eA=="}),
    ("query($i: ID!) { node(id: $i) { id } }", {"i": ""}),
    (CREATE_DOCUMENT, {"owner": "nope", "due": "2026-01-01"}),
    (CREATE_DOCUMENT, {"owner": "nope", "due": "not a date"}),
]


async def _row_counts(container) -> dict[str, int]:
    async with container.engine.connect() as conn:
        return {
            table: int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in ("companies", "users", "documents", "workflows")
        }


def _check_errors(body: dict[str, Any], context: object) -> None:
    assert body.get("errors"), (context, body)
    for error in body["errors"]:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, (context, error)
        for words in PYTHON_TEXT:
            assert words not in error["message"], (context, error)


async def test_every_client_error_is_coded_worded_for_the_client_and_changes_nothing(gql, caplog) -> None:
    caplog.set_level(logging.INFO)
    before = await _row_counts(gql.demo.container)
    refused = 0
    for query, variables in MALFORMED:
        response = await gql.raw(query, variables, as_user=HR, headers={"X-Request-ID": "req-fuzz"})
        if response.status_code != 200:  # refused by the HTTP layer before GraphQL: a 4xx, never a 5xx
            assert 400 <= response.status_code < 500, (query, response.text)
            continue
        body = response.json()
        if "errors" not in body:  # a malformed id is nobody's (null); a mutation answers a typed error
            for value in body["data"].values():
                assert value is None or value["__typename"].endswith("Error"), (query, body)
                assert not any(words in str(value) for words in PYTHON_TEXT), (query, body)
            continue
        _check_errors(body, (query, variables))
        refused += 1
    assert refused >= 50
    assert await _row_counts(gql.demo.container) == before
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]
    client = [r for r in caplog.records if r.name == "hrgraph.graphql" and getattr(r, "request_id", "") == "req-fuzz"]
    assert client and all(r.levelno == logging.INFO and not r.exc_info for r in client)


async def test_bad_dates_say_what_is_expected(gql) -> None:
    body = await gql(DUE_ON, {"d": "x"}, as_user=HR)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "YYYY-MM-DD" in error["message"]
    literal = await gql('{ documents(filter: {dueOn: {eq: "2026-02-30"}}) { totalCount } }', as_user=HR)
    (error,) = literal["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "YYYY-MM-DD" in error["message"] and "isoformat" not in error["message"]
    fine = await gql(DUE_ON, {"d": "2026-01-31"}, as_user=HR)
    assert not fine.get("errors"), fine


async def test_the_date_scalars_follow_rfc_3339_and_say_so(gql) -> None:
    """`@specifiedBy` tells a frontend's codegen what the strings hold; a date-time without
    its offset is refused rather than read in the server's time zone."""
    for name in ("Date", "DateTime"):
        scalar = await gql.data(f'{{ __type(name: "{name}") {{ specifiedByURL }} }}', as_user=HR)
        assert scalar["__type"]["specifiedByURL"] == "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
    naive = await gql(CREATED, {"t": "2026-01-01T10:00:00"}, as_user=HR)
    (error,) = naive["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "with its offset" in error["message"]
    for instant in ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00.5-05:30"):
        fine = await gql(CREATED, {"t": instant}, as_user=HR)
        assert not fine.get("errors"), (instant, fine)


@pytest.mark.parametrize(
    "query, code",
    [
        ("{ me { email ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { documents(first: $n) { totalCount } }", "BAD_USER_INPUT"),
        ("{ documents(first: 1000) { totalCount } }", "INVALID"),
    ],
)
async def test_the_stable_codes(gql, query, code) -> None:
    body = await gql(query, as_user=HR)
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_client_errors_log_at_info_and_faults_at_error(gql, resolver_gql, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO)
    await gql.raw("{ nope }", as_user=HR, headers={"X-Request-ID": "req-client"})
    await gql.raw("{ me { email } }", headers={"X-Request-ID": "req-client"})
    mine = [r for r in caplog.records if getattr(r, "request_id", None) == "req-client" and r.name != "hrgraph.access"]
    assert len(mine) == 2
    assert all(r.levelno == logging.INFO and r.exc_info is None for r in mine)
    assert {r.code for r in mine} == {"GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED"}

    async def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a real fault")

    monkeypatch.setattr(EntityService, "list", explode)
    caplog.clear()
    # the resolver path, where the patched service runs (compiled reads do not call it)
    await resolver_gql.raw("{ documents { totalCount } }", as_user=HR, headers={"X-Request-ID": "req-fault"})
    (fault,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert fault.request_id == "req-fault" and fault.exc_info and "a real fault" in str(fault.exc_info[1])


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_subscription_over_http_is_a_coded_client_error_logged_at_info(gql, caplog, method) -> None:
    caplog.set_level(logging.INFO)
    query = "subscription { workflowStatusChanged { eventId } }"
    headers = {"Authorization": f"Bearer {gql.demo.token(HR)}", "X-Request-ID": "req-subscription"}
    # application/json keeps 200 with "data": null; graphql-response+json says 400, no data
    for accept, status in [("application/json", 200), ("application/graphql-response+json", 400)]:
        sent = {**headers, "Accept": accept}
        if method == "POST":
            response = await gql.http.post("/graphql", json={"query": query}, headers=sent)
        else:
            response = await gql.http.get("/graphql", params={"query": query}, headers=sent)
        assert response.status_code == status, response.text
        body = response.json()
        assert body.get("data") is None and ("data" in body) == (status == 200)
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "SUBSCRIPTION_REQUIRES_WEBSOCKET"}
        assert "WebSocket" in error["message"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-subscription"]
    graphql = [r for r in logged if r.name == "hrgraph.graphql"]
    assert len(graphql) == 2 and all(r.levelno == logging.INFO and not r.exc_info for r in graphql)
    assert all(r.levelno < logging.WARNING for r in logged)


DATE_VALUES = st.one_of(
    st.text(max_size=30), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=DATE_VALUES)
async def test_any_date_value_is_either_accepted_or_refused_in_the_clients_words(gql, value) -> None:
    for query, name in ((DUE_ON, "d"), (CREATED, "t")):
        body = await gql(query, {name: value}, as_user=HR)
        if body.get("errors"):
            _check_errors(body, (query, value))
        else:
            assert isinstance(body["data"]["documents"]["totalCount"], int)


async def test_a_missing_id_is_not_found_and_nothing_else(gql) -> None:
    missing = to_global_id("Document", uuid.uuid4())
    body = await gql("query($i: ID!) { document(id: $i) { title } }", {"i": missing}, as_user=HR)
    assert body["data"] == {"document": None} and not body.get("errors")

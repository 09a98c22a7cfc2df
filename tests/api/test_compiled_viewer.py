"""The stored user decides, on both paths: ``SignIn.user`` (``adapters/auth/sign_in.py``) (resolver path) and its
compiled twin ``adapters.sql.compiled.stored_user_matches`` are run against the same cases.

A token stays well signed after its user was deleted, demoted or moved to another company; the
compiled statements were planned for the token's claims, so they must answer only while the
stored row still matches them, and otherwise leave the answer to the resolver path.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
import sqlalchemy as sa

from domains.kernel.ids import to_global_id
from domains.kernel.principal import Principal, Role

HR, ALICE, BOB, GLOBEX_HR = "hr@acme.example", "alice@acme.example", "bob@acme.example", "hr@globex.example"

# Compiled-eligible reads whose answers depend on who asks, and how many statements each costs
# on the compiled path: one per root field that reads (`__typename` alone: the check alone).
QUERIES = {
    "{ documents { totalCount edges { node { title } } } }": 1,
    "{ companies { edges { node { name } } } }": 1,
    "{ me { email role company { name } } }": 1,
    "{ __typename }": 1,
    "{ me { email } users(first: 5, orderBy: [{email: ASC}]) { totalCount edges { node { email } } } }": 2,
}


def _token(demo: Any, *, sub: uuid.UUID, company_id: uuid.UUID, roles: list[str]) -> str:
    """Signed with the real secret, claiming whatever the test likes."""
    claims = {
        "sub": str(sub),
        "company_id": str(company_id),
        "roles": roles,
        "iss": "hr-graph",
        "aud": "hr-graph",
        "iat": dt.datetime.now(dt.UTC),
        "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    }
    return jwt.encode(claims, demo.container.settings.secret, algorithm="HS256")


async def _sql(demo: Any, statement: str, **values: Any) -> None:
    async with demo.container.engine.begin() as conn:
        await conn.execute(sa.text(statement), values)


async def _stored(demo: Any, user_id: uuid.UUID) -> Principal | None:
    """A token for the stored row as it is now (what an honest, fresh token would claim)."""
    async with demo.container.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT company_id, role FROM users WHERE id = :id AND deleted_at IS NULL"), {"id": user_id}
            )
        ).first()
    return None if row is None else Principal(user_id, row.company_id, frozenset({Role(row.role)}))


Token = Callable[[Any], str]
Change = Callable[[Any], Awaitable[None]] | None  # what happens in the database after issuing


def _issued(email: str) -> Token:
    return lambda demo: str(demo.token(email))


async def _delete_bob(demo: Any) -> None:
    await _sql(demo, "UPDATE users SET deleted_at = now() WHERE id = :id", id=demo.id(BOB))


async def _demote_hr(demo: Any) -> None:
    await _sql(demo, "UPDATE users SET role = 'EMPLOYEE' WHERE id = :id", id=demo.id(HR))


async def _promote_alice(demo: Any) -> None:
    await _sql(demo, "UPDATE users SET role = 'ADMIN' WHERE id = :id", id=demo.id(ALICE))


async def _move_hr_to_globex(demo: Any) -> None:
    globex = demo.principal(GLOBEX_HR).company_id
    await _sql(demo, "UPDATE users SET company_id = :c WHERE id = :id", c=globex, id=demo.id(HR))


GONE: dict[str, tuple[Token, Change]] = {
    "deleted": (_issued(BOB), _delete_bob),
    "unknown": (
        lambda demo: _token(demo, sub=uuid.uuid4(), company_id=demo.principal(HR).company_id, roles=["ADMIN"]),
        None,
    ),
}
CHANGED: dict[str, tuple[Token, Change]] = {
    "demoted": (_issued(HR), _demote_hr),
    "promoted": (_issued(ALICE), _promote_alice),
    "moved": (_issued(HR), _move_hr_to_globex),
    "claims several roles": (
        lambda demo: _token(
            demo, sub=demo.id(ALICE), company_id=demo.principal(ALICE).company_id, roles=["EMPLOYEE", "ADMIN"]
        ),
        None,
    ),
    "claims no role": (
        lambda demo: _token(demo, sub=demo.id(HR), company_id=demo.principal(HR).company_id, roles=[]),
        None,
    ),
    "claims another company and role": (
        lambda demo: _token(demo, sub=demo.id(ALICE), company_id=demo.principal(GLOBEX_HR).company_id, roles=["ADMIN"]),
        None,
    ),
}


def _comparable(body: dict[str, Any]) -> tuple[Any, Any]:
    for error in body.get("errors") or []:
        error.get("extensions", {}).pop("requestId", None)
    return body.get("data"), body.get("errors")


@pytest.mark.parametrize("case", list(GONE))
async def test_a_missing_or_deleted_users_token_is_unauthenticated_on_both_paths(gql, resolver_gql, case) -> None:
    issue, change = GONE[case]
    token = issue(gql.demo)
    if change is not None:
        assert (await gql("{ me { email } }", token=token))["data"]["me"]  # it worked until now
        await change(gql.demo)
    for query in QUERIES:
        ours, theirs = await gql(query, token=token), await resolver_gql(query, token=token)
        assert _comparable(ours) == _comparable(theirs), query
        if query == "{ __typename }":  # asks nothing of anyone: answered on both paths alike
            assert ours["data"] == {"__typename": "Query"} and not ours.get("errors")
            continue
        assert ours["data"] is None, query
        assert [e["extensions"]["code"] for e in ours["errors"]] == ["UNAUTHENTICATED"], query
        assert "unknown" in ours["errors"][0]["message"]


@pytest.mark.parametrize("case", list(CHANGED))
async def test_answers_follow_the_stored_role_and_company_not_the_claims(gql, resolver_gql, case) -> None:
    demo = gql.demo
    issue, change = CHANGED[case]
    stale = issue(demo)
    before = {query: (await gql(query, token=stale))["data"] for query in QUERIES}
    if change is not None:
        await change(demo)
    claimed = demo.container.verifier.verify(stale)
    stored = await _stored(demo, claimed.user_id)
    assert stored is not None and (stored.company_id, stored.roles) != (claimed.company_id, claimed.roles)
    fresh = demo.container.verifier.issue(stored)  # what the stored row says, claimed honestly
    for query, statements in QUERIES.items():
        ours, theirs = await gql(query, token=stale), await resolver_gql(query, token=stale)
        honest = await gql(query, token=fresh)
        assert not ours.get("errors"), ours
        assert _comparable(ours) == _comparable(theirs) == _comparable(honest), query
        # The compiled statements found no user matching the claims: the resolver path answered
        # (its count; the compiled statements ran on a handle of their own).
        assert ours["extensions"]["sql"]["statements"] == theirs["extensions"]["sql"]["statements"], query
        assert honest["extensions"]["sql"]["statements"] == statements, query  # compiled
    if change is not None:
        # The answers did change with the stored row: the token's claims no longer decide.
        after = {query: (await gql(query, token=stale))["data"] for query in QUERIES}
        assert after != before


async def test_an_unchanged_user_is_checked_inside_the_statements(gql, resolver_gql) -> None:
    """No separate look-up: one statement per root field, each carrying the check."""
    document = (await gql.data("{ documents(first: 1) { edges { node { id } } } }", as_user=ALICE))["documents"]
    document_id = document["edges"][0]["node"]["id"]
    company = to_global_id("Company", gql.demo.principal(ALICE).company_id)
    for query, statements in (
        *QUERIES.items(),
        ("{ me { email } }", 1),
        (f'{{ document(id: "{document_id}") {{ title }} }}', 1),
        (f'{{ document(id: "{document_id}") {{ title }} me {{ email }} __typename }}', 2),
        ("{ __typename }", 1),  # nothing else to read: the check alone
        (f'{{ document(id: "nonsense") {{ id }} user(id: "{company}") {{ id }} __typename }}', 1),
    ):
        ours, theirs = await gql(query, as_user=ALICE), await resolver_gql(query, as_user=ALICE)
        assert _comparable(ours) == _comparable(theirs), query
        assert ours["extensions"]["sql"]["statements"] == statements, query

"""Tokens are checked against the stored user, and the development secret is no constant."""

from __future__ import annotations

import datetime as dt
import stat
import uuid
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa

from app.settings import Settings
from domains.kernel.ids import to_global_id

ROOT = Path(__file__).resolve().parents[2]
COMPANIES = "{ companies { edges { node { name } } } }"


def _forged(demo, *, sub: uuid.UUID, company_id: uuid.UUID, roles: list[str]) -> str:
    """A token signed with the real secret but claiming whatever the forger likes."""
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


async def _company_count(demo) -> int:
    async with demo.container.engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM companies"))).scalar_one())


async def test_a_token_for_a_user_who_does_not_exist_is_refused(gql) -> None:
    demo = gql.demo
    token = _forged(demo, sub=uuid.uuid4(), company_id=demo.principal("hr@acme.example").company_id, roles=["ADMIN"])
    before = await _company_count(demo)

    read = await gql(COMPANIES, token=token)
    write = await gql('mutation { createCompany(input: {name: "Forged"}) { __typename } }', token=token)

    for body in (read, write):
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "the user of this token is unknown" in error["message"]
    assert await _company_count(demo) == before


async def test_a_deleted_users_token_stops_working_at_once(gql) -> None:
    bob_token = gql.demo.token("bob@acme.example")
    assert (await gql.data("{ me { email } }", as_user="bob@acme.example"))["me"] == {"email": "bob@acme.example"}
    deleted = await gql.data(
        "mutation($id: ID!) { deleteUser(id: $id, expectedVersion: 1) { __typename } }",
        {"id": to_global_id("User", gql.demo.id("bob@acme.example"))},
        as_user="hr@acme.example",
    )
    assert deleted["deleteUser"]["__typename"] != "NotFoundError"

    body = await gql("{ me { email } }", token=bob_token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "unknown" in body["errors"][0]["message"]


async def test_role_and_company_come_from_the_stored_user_not_the_claims(gql) -> None:
    demo = gql.demo
    globex = demo.principal("hr@globex.example").company_id
    # Alice is an Acme EMPLOYEE; her token claims ADMIN at Globex.
    token = _forged(demo, sub=demo.id("alice@acme.example"), company_id=globex, roles=["ADMIN"])

    body = await gql(COMPANIES, token=token)
    assert not body.get("errors"), body
    assert [e["node"]["name"] for e in body["data"]["companies"]["edges"]] == ["Acme Corp"]
    me = await gql("{ me { role company { name } } }", token=token)
    assert me["data"]["me"] == {"role": "EMPLOYEE", "company": {"name": "Acme Corp"}}

    before = await _company_count(demo)
    created = await gql('mutation { createCompany(input: {name: "Not Allowed"}) { __typename } }', token=token)
    assert created["data"]["createCompany"]["__typename"] == "ForbiddenError"
    assert await _company_count(demo) == before


def test_the_development_secret_is_random_per_data_folder_and_kept(tmp_path) -> None:
    one, other = tmp_path / "one", tmp_path / "other"
    first = Settings(app_env="development", data_dir=one, _env_file=None)  # type: ignore[call-arg]
    again = Settings(app_env="test", data_dir=one, _env_file=None)  # type: ignore[call-arg]
    elsewhere = Settings(app_env="development", data_dir=other, _env_file=None)  # type: ignore[call-arg]

    secret = first.secret
    assert secret and len(secret) >= 48
    assert again.secret == secret  # kept in the folder: tokens survive a restart
    assert elsewhere.secret != secret
    kept = one / "jwt-secret"
    assert kept.read_text().strip() == secret
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not any(secret in path.read_text() for path in (ROOT / "app").glob("*.py"))


def test_the_source_holds_no_signing_secret() -> None:
    settings_source = (ROOT / "app" / "settings.py").read_text()
    assert "DEV_SECRET" not in settings_source
    assert "dev-only-secret" not in settings_source


def test_production_needs_a_secret_or_a_jwks_url(tmp_path) -> None:
    production = Settings(app_env="production", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="JWKS_URL or JWT_SECRET"):
        _ = production.secret
    assert not (tmp_path / "jwt-secret").exists()
    configured = Settings(app_env="production", jwt_secret="s" * 48, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert configured.secret == "s" * 48


async def test_the_look_up_of_the_tokens_user_serves_me_too(resolver_gql) -> None:
    # on the resolver path; compiled reads answer `me` with their own one statement
    body = await resolver_gql("{ me { email role } }", as_user="hr@acme.example")
    assert body["data"]["me"] == {"email": "hr@acme.example", "role": "HR"}
    assert body["extensions"]["sql"]["statements"] == 1  # the look-up; `me` reads nothing more


async def test_a_token_older_than_the_maximum_age_gets_no_data(gql) -> None:
    """Issued 13 h ago with a day-long ``exp``: the stored user is fine, the token is too old."""
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(hr.user_id),
        "company_id": str(hr.company_id),
        "roles": ["HR"],
        "iss": "hr-graph",
        "aud": "hr-graph",
        "exp": now + dt.timedelta(hours=11),
    }
    secret = demo.container.settings.secret
    old = jwt.encode({**claims, "iat": now - dt.timedelta(hours=13)}, secret, algorithm="HS256")
    undated = jwt.encode(claims, secret, algorithm="HS256")
    recent = jwt.encode({**claims, "iat": now - dt.timedelta(hours=11)}, secret, algorithm="HS256")
    # `me` alone is a compiled read; with `documents { edges { node { availableTransitions } } }`
    # the resolver path answers: both refuse.
    for query in ("{ me { email } }", "{ me { email } documents { edges { node { availableTransitions } } } }"):
        for token, reason in ((old, "maximum age"), (undated, "no iat")):
            body = await gql(query, token=token)
            assert body["data"] is None
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED" and reason in error["message"], error
        assert (await gql(query, token=recent))["data"]["me"] == {"email": "hr@acme.example"}

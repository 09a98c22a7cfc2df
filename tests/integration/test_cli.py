"""The command line: what it refuses in production, and the schema it exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["token", "--email", "hr@acme.example"], ["seed"]])
def test_production_refuses_dev_tokens_and_demo_data(monkeypatch, capsys, command) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWKS_URL", "http://127.0.0.1:9/jwks.json")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/never-used")
    assert main(command) == 2
    assert "refusing" in capsys.readouterr().err


def test_tokens_only_in_development(monkeypatch, capsys, database_url) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["token", "--email", "hr@acme.example"]) == 2
    assert "development tokens only" in capsys.readouterr().err


def test_token_for_a_seeded_user_and_for_a_stranger(monkeypatch, capsys, demo, database_url) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_ENV", "development")
    assert main(["token", "--email", "HR@acme.example"]) == 0
    token = capsys.readouterr().out.strip()
    assert demo.container.verifier.verify(token).email == "hr@acme.example"
    assert main(["token", "--email", "nobody@acme.example"]) == 1
    assert "no user" in capsys.readouterr().err


def test_export_schema_writes_the_served_sdl(tmp_path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text() == (ROOT / "schema.graphql").read_text()


async def _globex_alice(demo) -> None:
    """A second alice@acme.example, at Globex: emails are unique within a company only."""
    from adapters.sql.database import RequestDatabase
    from domains.kernel.principal import Role

    operation = demo.container.operation(RequestDatabase(demo.container.engine))
    users = operation.services["User"]
    globex = demo.principal("hr@globex.example")
    async with operation.uow.transaction():  # the writes join it: one commit
        alice = {"email": "alice@acme.example", "full_name": "Alice of Globex", "role": Role.EMPLOYEE}
        await users.create(globex, alice)


async def test_token_for_an_email_at_two_companies_needs_the_company(monkeypatch, capsys, demo, database_url) -> None:
    import asyncio

    from domains.kernel.principal import Role

    await _globex_alice(demo)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_ENV", "development")

    async def run(*args: str) -> int:
        # main() runs its own event loop, so it runs beside this test's loop, not inside it
        return await asyncio.to_thread(main, ["token", "--email", "alice@acme.example", *args])

    assert await run() == 1
    err = capsys.readouterr().err
    assert "2 companies (acme-corp, globex)" in err and "--company" in err

    assert await run("--company", "globex") == 0
    globex_alice = demo.container.verifier.verify(capsys.readouterr().out.strip())
    assert globex_alice.company_id == demo.principal("hr@globex.example").company_id
    assert globex_alice.roles == frozenset({Role.EMPLOYEE})

    assert await run("--company", "Acme Corp") == 0
    assert demo.container.verifier.verify(capsys.readouterr().out.strip()).user_id == demo.id("alice@acme.example")

    assert await run("--company", "initech") == 1
    assert "no user with email 'alice@acme.example' at 'initech'" in capsys.readouterr().err

"""The movable clock: `python -m app clock advance 8d`, run as its own process, moves the time
that the running server's commands see (stored in the database); production refuses it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from domains.kernel.ids import to_global_id

ROOT = Path(__file__).resolve().parents[2]
TICKET = """mutation($input: RequestDocumentUploadInput!) { requestDocumentUpload(input: $input) {
  __typename ... on RequestDocumentUploadPayload { upload { expiresAt } } ... on Error { code message } } }"""


def _clock(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", "clock", *args],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "test", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _expires_in(gql: Any) -> timedelta:
    alice = gql.demo.id("alice@acme.example")
    input = {
        "ownerId": to_global_id("User", alice),
        "kind": "CONTRACT",
        "title": "Offer letter",
        "fileName": "offer.pdf",
        "contentType": "application/pdf",
        "sizeBytes": 100,
    }
    granted = (await gql.data(TICKET, {"input": input}, as_user="alice@acme.example"))["requestDocumentUpload"]
    assert granted["__typename"] == "RequestDocumentUploadPayload", granted
    return datetime.fromisoformat(granted["upload"]["expiresAt"]) - datetime.now(UTC)


async def test_advancing_the_clock_from_outside_moves_the_servers_time(gql: Any, database_url: str) -> None:
    assert await _expires_in(gql) <= timedelta(minutes=10)
    try:
        assert "8 days" in _clock(database_url, "advance", "8d")
        for _ in range(40):  # the server reads the offset again every second
            moved = await _expires_in(gql)
            if moved > timedelta(days=8):
                break
            await asyncio.sleep(0.25)
        assert timedelta(days=8) < moved <= timedelta(days=8, minutes=10)
        assert "9 days" in _clock(database_url, "advance", "1d")
    finally:
        _clock(database_url, "reset")
    for _ in range(40):
        if await _expires_in(gql) <= timedelta(minutes=10):
            break
        await asyncio.sleep(0.25)
    assert await _expires_in(gql) <= timedelta(minutes=10)


def test_the_clock_is_refused_in_production_and_needs_a_duration(monkeypatch, capsys, database_url) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_ENV", "test")
    assert main(["clock", "advance", "eight days"]) == 2
    assert "not a duration" in capsys.readouterr().err
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWKS_URL", "http://127.0.0.1:9/jwks.json")
    assert main(["clock", "advance", "8d"]) == 2
    assert "refusing" in capsys.readouterr().err
    assert main(["clock", "show"]) == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("8d", 691200), ("-1w", -604800)]
)
def test_durations(text: str, seconds: int) -> None:
    from app.worker import parse_duration

    assert parse_duration(text).total_seconds() == seconds

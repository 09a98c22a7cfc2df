"""`python -m app serve` as an operator runs it: a mistake is one clear line and a non-zero
exit within seconds, never a traceback nor a "serving" banner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Generous for a loaded 2-core machine (an idle one answers in about a second): the bound
# catches a hang, such as a database host that never answers (check_reachable gives up at 5 s).
SECONDS = 15.0
OWN_SETTINGS = ("APP_ENV", "DATABASE_URL", "JWT_SECRET", "JWKS_URL", "GRAPHIQL", "INTROSPECTION")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], *args: str) -> tuple[int, list[str], float]:
    """Runs the server command; returns its exit code, its stderr lines and its duration."""
    clean = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS and k != "TEST_DATABASE_URL"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--port", str(_free_port()), *args],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=SECONDS * 3,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"still running after {expired.timeout} s: {expired.stderr!r}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.stdout == ""
    return done.returncode, lines, time.monotonic() - started


def test_a_dead_database_url_is_one_line() -> None:
    dead = f"postgresql://postgres@127.0.0.1:{_free_port()}/hrgraph"
    code, lines, seconds = serve({"DATABASE_URL": dead})
    assert code != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("hr-graph: cannot connect to the database at postgresql://postgres@127.0.0.1:")
    assert "DATABASE_URL" in lines[0]
    assert seconds < SECONDS


def test_a_password_is_not_shown(database_url: str) -> None:
    url = database_url.replace("postgresql://postgres", "postgresql://nobody:hunter2-secret")
    code, lines, _ = serve({"DATABASE_URL": url})
    assert code != 0
    assert len(lines) == 1, lines
    assert "hunter2" not in lines[0]
    assert 'role "nobody" does not exist' in lines[0] or "authentication" in lines[0]


def test_a_port_in_use_is_one_line_without_the_banner(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines, seconds = serve({"DATABASE_URL": database_url}, "--port", str(port))
    assert code != 0
    assert lines == [
        f"hr-graph: port {port} on 127.0.0.1 is already in use: stop the other server or choose another port"
        " (--port, or PORT=... make run)"
    ]
    assert seconds < SECONDS


@pytest.mark.parametrize(
    "env, named, not_named",
    [
        ({}, ["DATABASE_URL", "JWKS_URL (or JWT_SECRET)"], []),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"}, ["JWKS_URL (or JWT_SECRET)"], ["DATABASE_URL"]),
        ({"JWKS_URL": "https://idp.example/jwks.json"}, ["DATABASE_URL"], ["JWKS_URL"]),
    ],
    ids=["nothing", "no-jwt", "no-database"],
)
def test_the_dockerfile_command_without_settings_names_them(env, named, not_named) -> None:
    """The image's CMD is `python -m app serve --host 0.0.0.0 --port 8000` with APP_ENV=production."""
    code, lines, seconds = serve({"APP_ENV": "production", **env}, "--host", "0.0.0.0")
    assert code != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("hr-graph: APP_ENV=production needs ")
    for name in named:
        assert name in lines[0]
    for name in not_named:
        assert name not in lines[0]
    assert seconds < SECONDS


def test_a_setting_that_does_not_parse_is_named() -> None:
    code, lines, _ = serve({"GRAPHIQL": "perhaps"})
    assert code != 0
    assert lines == ["hr-graph: invalid setting GRAPHIQL: fix the environment or .env"]

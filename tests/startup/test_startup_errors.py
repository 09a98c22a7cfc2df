"""`python -m app serve` as an operator runs it: a mistake is one clear line and a non-zero
exit within seconds, never a traceback nor a "serving" banner."""

from __future__ import annotations

import base64
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
OWN_SETTINGS = (
    "APP_ENV",
    "DATABASE_URL",
    "JWT_SECRET",
    "JWKS_URL",
    "GRAPHIQL",
    "INTROSPECTION",
    "S3_BUCKET",
    "PUBLIC_URL",
    "BLOB_SECRET",
    "BLOB_ENCRYPTION_KEYS",
)
DEAD = "postgresql://postgres@127.0.0.1:1/x"
JWKS = "https://idp.example/jwks.json"
LOCAL_STORE = [
    "PUBLIC_URL (or S3_BUCKET)",
    "BLOB_SECRET (or JWT_SECRET, or S3_BUCKET)",
    "BLOB_ENCRYPTION_KEYS (or S3_BUCKET)",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], *args: str) -> tuple[int, list[str], float]:
    """Runs the server command; returns its exit code, its stderr lines and its duration."""
    return command(env, "serve", "--port", str(_free_port()), *args)


def command(env: dict[str, str], *args: str) -> tuple[int, list[str], float]:
    """Runs ``python -m app ARGS``; returns its exit code, its stderr lines and its duration."""
    clean = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS and k != "TEST_DATABASE_URL"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
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
        ({}, ["DATABASE_URL", "JWKS_URL (or JWT_SECRET)", *LOCAL_STORE], []),
        ({"DATABASE_URL": DEAD, "S3_BUCKET": "b"}, ["JWKS_URL (or JWT_SECRET)"], ["DATABASE_URL", "PUBLIC_URL"]),
        ({"JWKS_URL": JWKS, "S3_BUCKET": "b"}, ["DATABASE_URL"], ["JWKS_URL", "PUBLIC_URL", "BLOB_SECRET"]),
        # JWKS_URL verifies tokens but signs no link: the local store needs its own secret
        ({"DATABASE_URL": DEAD, "JWKS_URL": JWKS, "PUBLIC_URL": "https://hr.example"}, [LOCAL_STORE[1]], ["JWKS_URL"]),
        ({"DATABASE_URL": DEAD, "JWT_SECRET": "s" * 40}, [LOCAL_STORE[0]], ["BLOB_SECRET", "JWT_SECRET"]),
        (
            {"DATABASE_URL": DEAD, "JWT_SECRET": "short-secret", "S3_BUCKET": "b"},
            ["JWT_SECRET of 32 bytes or more (this one has 12)"],
            ["JWKS_URL", "short-secret"],
        ),
    ],
    ids=["nothing", "no-jwt", "no-database", "jwks-local-store", "no-public-url", "short-jwt-secret"],
)
def test_the_dockerfile_command_without_settings_names_them(env, named, not_named) -> None:
    """The image's CMD is `python -m app serve --host 0.0.0.0 --port 8000` with APP_ENV=production.
    Every missing setting in the one line, none that is set; never a traceback."""
    code, lines, seconds = serve({"APP_ENV": "production", **env}, "--host", "0.0.0.0")
    assert code != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("hr-graph: APP_ENV=production needs ")
    for name in named:
        assert name in lines[0]
    for name in not_named:
        assert name not in lines[0]
    assert seconds < SECONDS


def test_migrating_needs_the_database_alone(database_url: str) -> None:
    """The Dockerfile's `docker run … python -m app migrate`: no JWKS_URL, JWT_SECRET or PUBLIC_URL."""
    code, lines, _ = command({"APP_ENV": "production", "DATABASE_URL": database_url}, "migrate")
    assert (code, lines) == (0, ["migrations applied"])
    code, lines, _ = command({"APP_ENV": "production"}, "migrate")
    assert code == 1
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and "JWKS_URL" not in lines[0], lines


def test_a_setting_that_does_not_parse_is_named() -> None:
    code, lines, _ = serve({"GRAPHIQL": "perhaps"})
    assert code != 0
    assert lines == [
        "hr-graph: invalid setting GRAPHIQL (expected a valid boolean, unable to interpret input):"
        " fix the environment or .env"
    ]


def test_an_unknown_app_env_lists_the_allowed_ones() -> None:
    code, lines, _ = command({"APP_ENV": "prod"}, "migrate")
    assert code != 0
    assert lines == [
        "hr-graph: invalid setting APP_ENV (expected 'development', 'test' or 'production'):"
        " fix the environment or .env"
    ]


def test_master_keys_that_do_not_parse_are_one_line_never_the_value() -> None:
    short = "k1:" + base64.b64encode(b"sixteen byte key").decode()
    for value in ("nonsense", short, f"{short},{short}"):
        code, lines, _ = command({"BLOB_ENCRYPTION_KEYS": value}, "keys", "rotate")
        assert code == 1 and len(lines) == 1, lines
        assert lines[0].startswith("hr-graph: invalid setting BLOB_ENCRYPTION_KEYS (id:base64key pairs")
        assert value not in lines[0]

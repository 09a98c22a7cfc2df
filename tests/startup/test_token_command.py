"""`python -m app token`, which the README's scripts run before every step: it prints the token
and nothing else, stays clear of the app's heavy parts, and fails in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import Demo

ROOT = Path(__file__).resolve().parents[2]
OWN_SETTINGS = ("APP_ENV", "DATABASE_URL", "JWT_SECRET", "JWKS_URL", "DATA_DIR", "TEST_DATABASE_URL")

# The token command as `python -m app token` runs it, and the packages it had loaded.
TOKEN = """
import json, sys
from app.cli import main
code = main(["token", "--email", "hr@acme.example"])
print(json.dumps({"code": code, "packages": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def _env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    return {**clean, "APP_ENV": "development", **env}


async def test_a_token_needs_neither_the_schema_nor_sqlalchemy(database_url: str, demo: Demo) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TOKEN],
        cwd=ROOT,
        env=_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    token, report = done.stdout.splitlines()
    answer = json.loads(report)
    assert answer["code"] == 0, done.stderr
    assert demo.container.verifier.verify(token).user_id == demo.id("hr@acme.example")
    assert done.stderr == ""
    assert {"strawberry", "sqlalchemy", "schema", "starlette", "alembic"}.isdisjoint(answer["packages"])


def test_on_the_embedded_server_it_prints_no_warning_and_fails_in_one_line() -> None:
    """Before the first `make run` the embedded database has no tables: one line saying what to
    do, and no RuntimeDirWarning (XDG_RUNTIME_DIR is unset in containers and CI)."""
    with tempfile.TemporaryDirectory(prefix="hrgraph-test-token-") as folder:
        os.chmod(folder, 0o755)  # the embedded server runs as its own user when we are root
        env = {k: v for k, v in _env(DATA_DIR=folder).items() if k != "XDG_RUNTIME_DIR"}
        done = subprocess.run(
            [sys.executable, "-m", "app", "token", "--email", "hr@acme.example"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        pid_file = Path(folder) / "pg" / "postmaster.pid"
        assert not pid_file.exists(), "the embedded server outlived the command"
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hr-graph: the database at postgresql://")
    assert "has no tables yet: start the server once (make run)" in lines[0]

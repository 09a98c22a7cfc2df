"""The embedded PostgreSQL the tests use without TEST_DATABASE_URL: stopped before its data
folder goes (today's `make test` left one running after every run)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import asyncpg

from app.database import embedded_server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_the_embedded_server_is_gone_when_its_block_ends() -> None:
    with tempfile.TemporaryDirectory(prefix="hrgraph-test-pg-") as folder:
        os.chmod(folder, 0o755)  # the server runs as its own user when we are root
        with embedded_server(Path(folder), database="postgres") as url:
            pid = int((Path(folder) / "pg" / "postmaster.pid").read_text().split()[0])
            assert _alive(pid)
            conn = await asyncpg.connect(url)
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()
        assert not _alive(pid), f"postmaster {pid} survived"

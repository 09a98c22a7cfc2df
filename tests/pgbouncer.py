"""Debian's PgBouncer in front of the test database, in transaction pooling mode (the mode
managed setups use; RDS Proxy behaves alike), from a temporary folder on a free port.

``TEST_THROUGH_PGBOUNCER=1`` makes the test fixtures (tests/conftest.py) serve the app through
it: ``DATABASE_URL`` at PgBouncer with ``DATABASE_TRANSACTION_POOLER`` on, the outbox feed's
LISTEN on its own direct connection (``DATABASE_LISTEN_URL``). ``make test-pgbouncer`` and
.ci/run run the API and subscription modules so."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ENABLED = os.environ.get("TEST_THROUGH_PGBOUNCER") == "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pgbouncer(server_url: str) -> Iterator[str]:
    """Runs PgBouncer for the block; yields ``server_url`` with PgBouncer's host and port."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    assert Path(binary).exists(), "TEST_THROUGH_PGBOUNCER=1 needs pgbouncer (apt-get install pgbouncer)"
    url = sa.engine.make_url(server_url)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="hrgraph-pgbouncer-") as folder:
        root = Path(folder)
        os.chmod(folder, 0o755)  # pgbouncer will not run as root: it runs as nobody, reading these
        (root / "users.txt").write_text(f'"{url.username or "postgres"}" "{url.password or ""}"\n')
        (root / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={url.host or '127.0.0.1'} port={url.port or 5432}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {root / 'users.txt'}",
                    "pool_mode = transaction",
                    # fewer server connections than the app's pools hold clients: clients share them
                    "default_pool_size = 8",
                    "max_client_conn = 1000",
                    f"pidfile = {root / 'pgbouncer.pid'}",
                    f"logfile = {root / 'pgbouncer.log'}",
                    "",
                ]
            )
        )
        for name in ("users.txt", "pgbouncer.ini"):
            os.chmod(root / name, 0o644)
        command = [binary, str(root / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]
            os.chmod(folder, 0o777)  # its pid and log files
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        output = process.stdout.read().decode() if process.stdout else ""
                        raise RuntimeError(f"pgbouncer did not start: {output}") from None
                    time.sleep(0.05)
            yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

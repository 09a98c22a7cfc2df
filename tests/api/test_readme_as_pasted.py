"""The README's shell and Python blocks, run as written against a server started as `make run`
starts it (`python -m app serve --dev`), on a port other than the default.

The only inputs are the port (PORT, which the README says the scripts read) and a real PDF
named contract.pdf in the folder the scripts run in, beside `.venv` as in a clone. The tokens
come from `.venv/bin/python -m app token` as written. The database is a fresh one of its own,
migrated and seeded by the server itself, as on a first `make run`. Any step that exits
non-zero fails the script (`set -euo pipefail`), and the test fails with its output.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECONDS = 120  # per script: a bound for a loaded 2-core machine, not an expectation
# Settings of the process running the tests that must not reach the README's processes.
NOT_INHERITED = re.compile(
    r"(APP_ENV|DATABASE_URL|TEST_DATABASE_URL|DATA_DIR|JWT_.*|JWKS_URL|PUBLIC_URL|BLOB_SECRET|S3_.*|AWS_.*"
    r"|GRAPHIQL|INTROSPECTION|COMPILED_READS|PORT|TOKEN|LOG_LEVEL|PYTHONPATH|SMTP_URL|APP_URL|MAIL_FROM|WEBHOOK_.*)"
)


@dataclass(frozen=True)
class Block:
    section: str
    language: str
    text: str


def readme_blocks() -> list[Block]:
    """Every fenced block with the `##` section it sits in ("" above the first)."""
    blocks, section = [], ""
    for part in re.split(r"^(## .*)$", README, flags=re.MULTILINE):
        if part.startswith("## "):
            section = part[3:].strip()
            continue
        for language, text in re.findall(r"^```(\w*)\n(.*?)^```", part, flags=re.MULTILINE | re.DOTALL):
            blocks.append(Block(section, language, text))
    return blocks


def runnable(language: str) -> dict[str, str]:
    found = {b.section: b.text for b in readme_blocks() if b.language == language}
    return found


def test_every_shell_and_python_block_is_run_here() -> None:
    """A new block is run by this module or named here as not meant to be run."""
    assert sorted(runnable("sh")) == ["", "Documents", "Try it"]  # "": the make commands at the top
    # "Jobs: webhooks, mail, the clock": a receiver's function, run by tests/unit/test_webhook_messages.py
    assert sorted(runnable("python")) == ["Jobs: webhooks, mail, the clock", "Live workflow status (subscriptions)"]


def minimal_pdf() -> bytes:
    """A real one-page PDF ("Signed contract"), with a correct cross-reference table."""
    text = b"BT /F1 24 Tf 72 720 Td (Signed contract) Tj ET"
    stream = zlib.compress(text)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Clone:
    """A folder laid out as a clone is for the README: `.venv` and contract.pdf, run with PORT."""

    folder: Path
    env: dict[str, str]
    port: int
    database_url: str

    def bash(self, script: str, *args: str, timeout: float = SECONDS) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script, "readme", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database: the server migrates it and loads the demo data, as `make run` does."""
    admin = sa.engine.make_url(server_url).set(drivername="postgresql")
    name = f"hrgraph_readme_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory, fresh_database: str) -> Iterator[Clone]:
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"the README's scripts need {tool} (apt-get install {tool}); make test says so first")
    folder = tmp_path_factory.mktemp("readme-clone")
    (folder / "contract.pdf").write_bytes(minimal_pdf())
    # `.venv/bin/python` as the README writes it: the environment running these tests
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    port = _free_port()
    assert port != 8000
    env = {k: v for k, v in os.environ.items() if not NOT_INHERITED.fullmatch(k)}
    env.update(
        {
            "PORT": str(port),
            "DATABASE_URL": fresh_database,  # instead of the embedded server under .data/
            "DATA_DIR": str(folder / ".data"),  # the dev secret and the local blob store
            "PYTHONPATH": str(ROOT),  # `python -m app` from this folder, as from the clone's root
            "TMPDIR": str(folder),  # the script's mktemp -d
        }
    )
    log = (folder / "server.log").open("w")
    run = [".venv/bin/python", "-m", "app", "serve", "--dev", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [str(folder / run[0]), *run[1:]],  # the Makefile's run recipe, without make
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server exited: {(folder / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not become ready")
            time.sleep(0.1)
        yield Clone(folder, env, port, fresh_database)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _ran(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.stderr == "", done.stderr  # no warning, no log line, no curl complaint
    return done.stdout.splitlines()


def test_try_it(clone: Clone) -> None:
    (answer,) = _ran(clone.bash(runnable("sh")["Try it"]))
    assert json.loads(answer)["data"] == {"me": {"email": "hr@acme.example", "company": {"name": "Acme Corp"}}}


def test_documents_from_ticket_to_download(clone: Clone) -> None:
    lines = _ran(clone.bash(runnable("sh")["Documents"]))
    answers = [json.loads(line) for line in lines[:-1]]
    # steps 3 to 5 print the document's new state
    states = [next(iter(a["data"].values())) for a in answers if "document" in next(iter(a["data"].values()))]
    assert [s["document"]["status"] for s in states] == ["UPLOADED", "IN_REVIEW", "APPROVED"]
    assert all(s["__typename"] == "DocumentPayload" for s in states)
    downloaded = re.fullmatch(r"downloaded (\S+): the file of step 2", lines[-1])
    assert downloaded, lines[-1]
    path = Path(downloaded.group(1))
    assert path.parent.parent == clone.folder and path.name == "contract.pdf"
    assert path.read_bytes() == (clone.folder / "contract.pdf").read_bytes()
    # links point at the port served on, not at the default 8000 (PUBLIC_URL is unset)
    log = (clone.folder / "server.log").read_text()
    assert f"links to http://127.0.0.1:{clone.port}" in log
    # the worker `make run` starts in-process mailed HR about the submission (SMTP_URL unset: a file)
    deadline = time.monotonic() + 30
    while not list((clone.folder / ".data" / "mail").glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    listing = httpx.get(f"http://127.0.0.1:{clone.port}/dev/mail", timeout=10).text
    assert "A document waits for your review" in listing and "hr@acme.example" in listing, listing


START = """mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) {
  ... on WorkflowPayload { workflow { id title } } ... on Error { code message } } }"""
ALICE = '{ users(filter: { email: { eq: "alice@acme.example" } }) { edges { node { id } } } }'


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def test_the_python_subscription_sees_a_workflow_start(clone: Clone) -> None:
    """watch.py as written, in the shell of "Try it" (TOKEN exported there), resuming after
    the last event so that nothing is missed between its start and the workflow's."""
    (clone.folder / "watch.py").write_text(runnable("python")["Live workflow status (subscriptions)"])
    after = asyncio.run(_last_event_id(clone.database_url))
    shell = "set -euo pipefail\n" + runnable("sh")["Try it"] + '\nexec .venv/bin/python watch.py "$1"'
    watcher = subprocess.Popen(
        ["bash", "-c", shell, "readme", str(after)],
        cwd=clone.folder,
        env=clone.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(watcher.stdout, printed), daemon=True).start()
    try:
        token = _ran(clone.bash(".venv/bin/python -m app token --email hr@acme.example"))[0]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"http://127.0.0.1:{clone.port}/graphql"
        alice = httpx.post(url, json={"query": ALICE}, headers=headers, timeout=30).json()
        subject = alice["data"]["users"]["edges"][0]["node"]["id"]
        variables = {"i": {"template": "EMPLOYEE_ONBOARDING", "subjectUserId": subject, "dueDate": "2026-12-31"}}
        started = httpx.post(url, json={"query": START, "variables": variables}, headers=headers, timeout=30).json()
        workflow = started["data"]["startWorkflow"]["workflow"]

        deadline, changes = time.monotonic() + SECONDS, []
        while not changes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or watcher.poll() is not None:
                break
            try:
                line = printed.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            for message in _json_values(line):  # Try it's answer ends without a newline
                if message.get("type") == "next":
                    changes.append(message["payload"]["data"]["workflowStatusChanged"])
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            _, errors = watcher.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            watcher.kill()
            _, errors = watcher.communicate()
    assert changes, f"watch.py printed no change (exit {watcher.returncode}): {errors}"
    assert changes[0]["workflow"]["title"] == workflow["title"]
    assert int(changes[0]["eventId"]) > after


def _json_values(line: str) -> Iterator[dict[str, object]]:
    decoder, at = json.JSONDecoder(), 0
    while line[at:].strip():
        value, at = decoder.raw_decode(line, len(line) - len(line[at:].lstrip()))
        yield value


async def _last_event_id(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        # the last id handed out, committed or not: resuming after it misses nothing
        value = await conn.fetchval(
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM events_id_seq"
        )
    finally:
        await conn.close()
    return int(value)

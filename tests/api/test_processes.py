"""Real server processes (``python -m app serve``) on one database: events committed through
one instance reach subscribers of another; SIGTERM closes sockets and exits in time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domains.kernel.ids import to_global_id
from tests.api.reviews import APPROVED, SUBMITTED, document_version, last_event_id, review, step_documents
from tests.api.test_workflows import START, WATCH, _changes, _moves, _start_input
from tests.api.ws import Socket, close_code
from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]
SHUTDOWN_BOUND = 4.0
APPROVE = """mutation($id: ID!, $v: Int!) { approveDocument(id: $id, expectedVersion: $v) {
  __typename ... on DocumentPayload { document { status } } ... on Error { code message } } }"""


class ServerProcess:
    def __init__(self, database_url: str, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="hrgraph-serve-", suffix=".log", delete=False)  # noqa: SIM115
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "APP_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "4",  # several servers share PostgreSQL's 100 connections
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> ServerProcess:
        """Polls /readyz: the process is up once it answers (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture(scope="module")
def two_servers(database_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first, second = ServerProcess(database_url), ServerProcess(database_url)
    try:
        yield first.wait_ready(), second.wait_ready()
    finally:
        first.stop()
        second.stop()


async def test_events_committed_through_one_instance_reach_subscribers_of_another(two_servers, demo) -> None:
    first, second = two_servers
    hr = demo.principal("hr@acme.example")
    async with await Socket.open(first.url, demo.token("hr@acme.example")) as socket:
        await socket.acknowledged()
        await socket.start(WATCH, {"a": str(await last_event_id(demo.container))})
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            response = await http.post(
                "/graphql",
                json={"query": START, "variables": _start_input(demo, "alice@acme.example")},
                headers={"Authorization": f"Bearer {demo.token('hr@acme.example')}"},
            )
        workflow = response.json()["data"]["startWorkflow"]["workflow"]
        documents = await step_documents(demo.container, workflow["id"])
        for document in documents:
            await review(demo.container, hr, document, SUBMITTED)
        for document in documents[:-1]:
            await review(demo.container, hr, document, APPROVED)
        last = documents[-1]
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            approved = await http.post(  # the last approval, on the second instance
                "/graphql",
                json={
                    "query": APPROVE,
                    "variables": {
                        "id": to_global_id("Document", last),
                        "v": await document_version(demo.container, last),
                    },
                },
                headers={"Authorization": f"Bearer {demo.token('hr@acme.example')}"},
            )
        assert approved.json()["data"]["approveDocument"]["document"]["status"] == "APPROVED", approved.text
        changes = await _changes(socket, 1 + 3 + 3 + 1)
    assert changes[0]["workflow"]["id"] == workflow["id"]
    assert _moves(changes[-2:]) == [("Tax form", "SUBMITTED", "DONE"), (None, "IN_PROGRESS", "COMPLETED")]
    assert changes[-1]["workflow"]["status"] == "COMPLETED"


async def test_sigterm_closes_open_subscriptions_and_exits_within_the_bound(database_url: str, demo) -> None:
    server = ServerProcess(database_url, SHUTDOWN_TIMEOUT_SECONDS=str(SHUTDOWN_BOUND)).wait_ready()
    try:
        socket = await Socket.open(server.url, demo.token("hr@acme.example"))
        await socket.acknowledged()
        await socket.start(WATCH, {})
        await socket.start("{ me { email } }")  # answered: the subscription before it is running
        _, answer = await socket.next_payload()
        assert answer["data"] == {"me": {"email": "hr@acme.example"}}
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert await close_code(socket, timeout=SHUTDOWN_BOUND) == 1012  # service restart: reconnect
        assert server.process.wait(timeout=SHUTDOWN_BOUND + 2) == 0
        assert time.monotonic() - started < SHUTDOWN_BOUND + 2
    finally:
        server.stop()

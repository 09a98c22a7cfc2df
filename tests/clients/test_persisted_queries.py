"""Apollo Client's persisted-queries link (tests/clients/persisted.mjs) against the real app:
a trusted document goes by its hash alone, over POST and over GET, and is answered; another
one is PersistedQueryNotFound first, then sent with its text, answered while TRUSTED_DOCUMENTS
is off and refused (TRUSTED_DOCUMENT_REQUIRED) when it is only."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from app.settings import Settings
from app.wiring import Container
from tests.clients.test_conformance import HERE, _node
from tests.conftest import LiveServer

HR = "hr@acme.example"


@pytest.fixture(scope="module")
def only_server(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(Container.build(settings.model_copy(update={"trusted_documents": "only"}), database_url)) as s:
        yield s


async def _run(server: LiveServer, token: str) -> dict[str, Any]:
    node, *flags, _ = _node()
    env = {**os.environ, "GRAPHQL_URL": f"{server.url}/graphql", "TOKEN": token}
    done = await asyncio.to_thread(
        subprocess.run, [node, *flags, "persisted.mjs"], cwd=HERE, capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _texts(sent: list[dict[str, Any]]) -> list[bool]:
    """Per request: did it carry a document's text?"""
    return [bool((s["body"] or {}).get("query") or s["params"].get("query")) for s in sent]


@pytest.mark.parametrize("mode", ["off", "only"])
async def test_apollo_sends_hashes_and_falls_back_to_the_text(live_server, only_server, demo, mode) -> None:
    server = live_server if mode == "off" else only_server
    got = await _run(server, demo.token(HR))
    for transport in ("post", "get"):
        run = got[transport]
        assert run["viewer"]["error"] is None, run
        assert run["viewer"]["data"]["me"]["email"] == HR
        # the trusted one: its hash only; the other: its hash (not found), then hash and text
        assert _texts(run["sent"]) == [False, False, True], run["sent"]
        assert [s["method"] for s in run["sent"]][:2] == (["GET", "GET"] if transport == "get" else ["POST", "POST"])
        if mode == "off":
            assert run["unknown"]["error"] is None and run["unknown"]["data"]["me"]["email"] == HR
        else:
            assert run["unknown"]["data"] is None
            assert "trusted documents only" in run["unknown"]["error"], run["unknown"]

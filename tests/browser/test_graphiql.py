"""GraphiQL in a real browser with the network closed: Debian's chromium, driven by Playwright
for Python, may reach the loopback server and nothing else. The page must load from the app
alone, accept a token in its headers pane and show the answer to `{ me { email } }`; fetch the
schema again once a token is pasted (docs, completion); and show a subscription's events as a
mutation over HTTP moves a workflow.

Skipped when chromium is missing, unless REQUIRE_BROWSER=1 (CI sets it) makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from domains.kernel.ids import to_global_id
from tests.api.reviews import last_event_id

if TYPE_CHECKING:
    from playwright.async_api import ElementHandle, Page, Route, WebSocket

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
# As the machine notes say: without these, chromium calls home at start-up.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or (parts.hostname or "") in LOOPBACK


async def _editor(page: Page, selector: str) -> ElementHandle:
    return await page.wait_for_selector(f"{selector} .CodeMirror >> visible=true", timeout=30_000)


HR = "hr@acme.example"
WAIT_MS = 15_000


@dataclass
class Session:
    page: Page
    escaped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    frames_sent: list[str | bytes] = field(default_factory=list)
    frames_received: list[str | bytes] = field(default_factory=list)
    introspections: list[str | None] = field(default_factory=list)  # each one's Authorization

    async def set_query(self, text: str) -> None:
        editor = await _editor(self.page, ".graphiql-query-editor")
        await editor.evaluate("(el, text) => el.CodeMirror.setValue(text)", text)
        # GraphiQL parses the editor's text 100 ms after a change (debounced), and picks HTTP or
        # the socket from that parse: run only once it has caught up, as a person would.
        await self.page.wait_for_function(
            "([el, text]) => el.CodeMirror.documentAST && el.CodeMirror.documentAST.loc.source.body === text",
            arg=[editor, text],
            timeout=WAIT_MS,
        )

    async def paste_headers(self, text: str) -> None:
        """As a person pastes: into the focused headers editor, as one input."""
        await self.page.locator(".graphiql-editor-tools button", has_text="Headers").click()
        editor = await _editor(self.page, ".graphiql-editor-tool")
        await editor.evaluate("el => { el.CodeMirror.setValue(''); el.CodeMirror.focus(); }")
        await self.page.keyboard.insert_text(text)

    async def response_shows(self, text: str) -> str:
        result = await _editor(self.page, ".graphiql-response")
        await self.page.wait_for_function(
            "([el, text]) => el.CodeMirror.getValue().includes(text)", arg=[result, text], timeout=WAIT_MS
        )
        return str(await result.evaluate("el => el.CodeMirror.getValue()"))


@asynccontextmanager
async def graphiql(url: str, screenshot: str) -> AsyncIterator[Session]:
    """GraphiQL on a fresh profile (no saved headers), every request and frame recorded."""
    _require_chromium()
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hrgraph-chromium-") as profile:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1400, "height": 900}
            )
            try:
                page = await browser.new_page()
                session = Session(page)

                async def only_loopback(route: Route) -> None:
                    if _is_loopback(route.request.url):
                        await route.continue_()
                    else:
                        session.escaped.append(route.request.url)
                        await route.abort("blockedbyclient")

                def on_socket(ws: WebSocket) -> None:
                    if not _is_loopback(ws.url):
                        session.escaped.append(ws.url)
                    ws.on("framesent", lambda payload: session.frames_sent.append(payload))
                    ws.on("framereceived", lambda payload: session.frames_received.append(payload))

                def on_request(request: Any) -> None:
                    if "IntrospectionQuery" in (request.post_data or ""):
                        session.introspections.append(request.headers.get("authorization"))

                await browser.route("**/*", only_loopback)
                page.on("websocket", on_socket)
                page.on("request", on_request)
                page.on("requestfailed", lambda request: session.failed.append(request.url))
                page.on("pageerror", lambda error: session.failed.append(f"page error: {error}"))
                response = await page.goto(f"{url}/graphql", wait_until="load")
                assert response is not None and response.status == 200
                await _editor(page, ".graphiql-query-editor")
                yield session
            finally:
                if browser.pages:  # also on failure: the picture says what the page showed
                    await browser.pages[-1].screenshot(path=str(ARTIFACTS / screenshot))
                await browser.close()
    assert session.escaped == [], f"requests tried to leave the machine: {session.escaped}"
    assert session.failed == [], session.failed


async def test_graphiql_runs_a_query_with_a_token_and_no_internet(live_server, demo) -> None:
    async with graphiql(live_server.url, "graphiql.png") as session:
        await session.paste_headers(json.dumps({"Authorization": f"Bearer {demo.token(HR)}"}))
        await session.set_query("{ me { email } }")
        await session.page.click(".graphiql-execute-button")
        answer = await session.response_shows(HR)
    assert f'"email": "{HR}"' in answer


async def test_pasting_a_token_fetches_the_schema_again(live_server, demo) -> None:
    token = demo.token(HR)
    async with graphiql(live_server.url, "graphiql-schema.png") as session:
        page = session.page
        await page.click("button[aria-label='Show Documentation Explorer']")
        # without a token the server answers nothing but { __typename }
        await page.wait_for_selector(".graphiql-doc-explorer-error >> text=Error fetching schema", timeout=WAIT_MS)
        assert session.introspections == [None]
        await session.paste_headers(json.dumps({"Authorization": f"Bearer {token}"}))
        await page.wait_for_selector(".graphiql-doc-explorer >> text=Root Types", timeout=WAIT_MS)
        await page.wait_for_selector(".graphiql-doc-explorer >> text=Subscription", timeout=WAIT_MS)
        assert await page.locator(".graphiql-doc-explorer-error").count() == 0
        # the typed event is documented, deprecations included
        await page.click(".graphiql-doc-explorer >> text=Subscription")
        await page.click(".graphiql-doc-explorer >> text=WorkflowStatusEvent")
        await page.wait_for_selector(".graphiql-doc-explorer >> text=workflowStatus", timeout=WAIT_MS)
    assert session.introspections[1:] == [f"Bearer {token}"]  # once, with the pasted token


async def test_a_subscription_in_graphiql_receives_a_workflows_events(live_server, gql) -> None:
    demo = gql.demo
    after = await last_event_id(demo.container)
    subscription = (
        f'subscription {{ workflowStatusChanged(afterEventId: "{after}") '
        "{ eventId kind workflowStatus workflow { id subject { email } } } }"
    )
    start = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
      ... on WorkflowPayload { workflow { id version } } ... on Error { code message } } }"""
    cancel = """mutation($id: ID!, $v: Int!) { cancelWorkflow(id: $id, reason: "GraphiQL", expectedVersion: $v) {
      ... on WorkflowPayload { workflow { status } } ... on Error { code message } } }"""
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    subject = to_global_id("User", demo.id("alice@acme.example"))
    token = demo.token(HR)
    async with graphiql(live_server.url, "graphiql-subscription.png") as session:
        await session.paste_headers(json.dumps({"Authorization": f"Bearer {token}"}))
        await session.set_query(subscription)
        await session.page.click(".graphiql-execute-button")
        await _wait_for(session, lambda: any('"subscribe"' in str(f) for f in session.frames_sent))

        variables = {"input": {"template": "EMPLOYEE_ONBOARDING", "subjectUserId": subject, "dueDate": due}}
        started = await gql.data(start, variables, as_user=HR)
        workflow_id = started["startWorkflow"]["workflow"]["id"]
        shown = await session.response_shows(workflow_id)
        assert '"kind": "WORKFLOW_STARTED"' in shown and '"email": "alice@acme.example"' in shown

        version = started["startWorkflow"]["workflow"]["version"]
        cancelled = await gql.data(cancel, {"id": workflow_id, "v": version}, as_user=HR)
        assert cancelled["cancelWorkflow"]["workflow"]["status"] == "CANCELLED"
        shown = await session.response_shows('"workflowStatus": "CANCELLED"')
        assert '"kind": "WORKFLOW_STATUS_CHANGED"' in shown
        await session.page.click(".graphiql-execute-button")  # stops the subscription

    messages = [json.loads(f) for f in session.frames_received if isinstance(f, str)]
    assert len(messages) == len(session.frames_received), "a binary frame reached the browser"
    (init,) = [json.loads(f) for f in session.frames_sent if '"connection_init"' in str(f)]
    assert init["payload"] == {"Authorization": f"Bearer {token}"}  # the headers pane
    events = [m["payload"]["data"]["workflowStatusChanged"] for m in messages if m["type"] == "next"]
    assert [(e["kind"], e["workflowStatus"]) for e in events] == [
        ("WORKFLOW_STARTED", "IN_PROGRESS"),
        ("WORKFLOW_STATUS_CHANGED", "CANCELLED"),
    ]


async def _wait_for(session: Session, condition: Any, timeout_ms: int = WAIT_MS) -> None:
    waited = 0
    while not condition():
        assert waited < timeout_ms, "timed out"
        await session.page.wait_for_timeout(50)
        waited += 50

"""GraphiQL in a real browser with the network closed: Debian's chromium, driven by Playwright
for Python, may reach the loopback server and nothing else. The page must load from the app
alone, accept a token in its headers pane and show the answer to `{ me { email } }`.

Skipped when chromium is missing, unless REQUIRE_BROWSER=1 (CI sets it) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.async_api import ElementHandle, Page, Route

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


async def test_graphiql_runs_a_query_with_a_token_and_no_internet(live_server, demo) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    escaped: list[str] = []
    token = demo.token("hr@acme.example")
    ARTIFACTS.mkdir(exist_ok=True)

    async def only_loopback(route: Route) -> None:
        if _is_loopback(route.request.url):
            await route.continue_()
        else:
            escaped.append(route.request.url)
            await route.abort("blockedbyclient")

    with tempfile.TemporaryDirectory(prefix="hrgraph-chromium-") as profile:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1400, "height": 900}
            )
            try:
                await browser.route("**/*", only_loopback)
                page = await browser.new_page()
                page.on("websocket", lambda ws: None if _is_loopback(ws.url) else escaped.append(ws.url))
                failed: list[str] = []
                page.on("requestfailed", lambda request: failed.append(request.url))
                page.on("pageerror", lambda error: failed.append(f"page error: {error}"))

                response = await page.goto(f"{live_server.url}/graphql", wait_until="load")
                assert response is not None and response.status == 200
                query_editor = await _editor(page, ".graphiql-query-editor")
                await page.locator(".graphiql-editor-tools button", has_text="Headers").click()
                headers_editor = await _editor(page, ".graphiql-editor-tool")
                await query_editor.evaluate("(el, text) => el.CodeMirror.setValue(text)", "{ me { email } }")
                await headers_editor.evaluate(
                    "(el, text) => el.CodeMirror.setValue(text)",
                    '{"Authorization": "Bearer ' + token + '"}',
                )
                await page.click(".graphiql-execute-button")
                result = await _editor(page, ".graphiql-response")
                await page.wait_for_function(
                    "el => el.CodeMirror.getValue().includes('hr@acme.example')", arg=result, timeout=30_000
                )
                answer = await result.evaluate("el => el.CodeMirror.getValue()")
            finally:
                if browser.pages:  # also on failure: the picture says what the page showed
                    await browser.pages[-1].screenshot(path=str(ARTIFACTS / "graphiql.png"))
                await browser.close()

    assert '"email": "hr@acme.example"' in answer
    assert escaped == [], f"requests tried to leave the machine: {escaped}"
    assert failed == [], failed

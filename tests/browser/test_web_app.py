"""The HR web app end to end, in Debian's chromium (Playwright), every request off the machine
blocked: HR and Alice in two browser contexts at once (Alice on a 390 px wide screen, signed in
by keyboard alone). HR starts Alice's onboarding; Alice sees it appear; she uploads three real
files through the file input; HR's queue shows them; HR rejects one with a reason (a blank
reason first: the error is shown next to it); Alice sees the reason and uploads again; HR
approves all three; Alice's screen shows the onboarding COMPLETED. HR's bell (a worker process
makes the notifications) counts the three submissions live and is marked read. The server answers
trusted documents only (TRUSTED_DOCUMENTS=only): the app sends each operation by its hash. Nobody reloads a page (a
marker set at sign-in survives to the end). Screenshots of each stage land in artifacts/.

Skipped when chromium or Node.js is missing, unless REQUIRE_BROWSER=1 (CI) makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from app.settings import Settings
from app.wiring import Container
from tests.browser.bundle import ensure_bundle
from tests.browser.test_graphiql import ARTIFACTS, CHROMIUM, FLAGS, _is_loopback, _require_chromium
from tests.conftest import Demo, _free_port
from tests.integration import test_jobs_process as process

# a worker process makes the notifications HR's bell hears of (with an SMTP server for its mails)
clean_queue, smtp, workers = process.clean_queue, process.smtp, process.workers

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page, Route, WebSocket

WAIT_MS = 20_000
REASON = "The scan is unreadable: please upload a sharper copy."
STEPS = ("Identity document", "Signed employment contract", "Tax form")


def pdf(text: str) -> bytes:
    """A small, valid one-page PDF (its xref offsets computed) that shows ``text``."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png(width: int = 64, height: int = 40) -> bytes:
    """A valid RGB PNG: a gradient, as a scanned card might be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 6 % 256, 160)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class WebServer:
    """The real app (bundle included) on a loopback port, its blob links pointing at that port."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        from app.http import create_app

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # TRUSTED_DOCUMENTS=only: the web app sends nothing but the hashes of frontend/operations
        only_trusted = {"public_url": self.url, "trusted_documents": "only"}
        self.container = Container.build(settings.model_copy(update=only_trusted), database_url)
        config = uvicorn.Config(create_app(self.container), host="127.0.0.1", port=self.port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> WebServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the web app's server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def web_server(settings: Settings, database_url: str) -> Iterator[WebServer]:
    _require_chromium()
    ensure_bundle()  # before the app is made: it serves the bundle it finds then
    with WebServer(settings, database_url) as server:
        yield server


@dataclass
class Person:
    name: str
    page: Page
    escaped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    subscribed: list[str] = field(default_factory=list)
    shots: int = 0

    async def shot(self, stage: str) -> None:
        await self.page.screenshot(path=str(ARTIFACTS / f"webapp-{stage}-{self.name}.png"), full_page=True)

    def card(self, section: str, title: str) -> Locator:
        return self.page.locator(f"section:has(h2:has-text('{section}')) article:has(h3:has-text('{title}'))")

    async def still_the_same_page(self) -> None:
        assert await self.page.evaluate("window.__signedInOnce === true"), f"{self.name}'s page was reloaded"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _open(browser: Browser, url: str, name: str, viewport: dict[str, int]) -> Person:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    person = Person(name, page)

    async def only_loopback(route: Route) -> None:
        if _is_loopback(route.request.url):
            await route.continue_()
        else:
            person.escaped.append(route.request.url)
            await route.abort("blockedbyclient")

    def on_socket(ws: WebSocket) -> None:
        if not _is_loopback(ws.url):
            person.escaped.append(ws.url)
        ws.on("framesent", lambda p: person.subscribed.append(str(p)) if '"subscribe"' in str(p) else None)

    await context.route("**/*", only_loopback)
    page.on("websocket", on_socket)
    page.on("pageerror", lambda error: person.failed.append(f"page error: {error}"))
    # No fallback poll: only live events may move the pages. And whether the upload's progress
    # bar was ever on screen (a tiny file may show it briefly).
    await context.add_init_script(
        "window.__HR_GRAPH_POLL_MS = 0;"
        "new MutationObserver(() => { if (document.querySelector('progress')) window.__sawProgress = true; })"
        ".observe(document, { childList: true, subtree: true });"
    )
    response = await page.goto(f"{url}/app/", wait_until="load")
    assert response is not None and response.status == 200
    return person


async def _signed_in(person: Person) -> None:
    await person.page.wait_for_selector(".connection.live", timeout=WAIT_MS)
    deadline = time.monotonic() + WAIT_MS / 1000
    while not person.subscribed:  # the live events are asked for: nothing after this is missed
        assert time.monotonic() < deadline, f"{person.name}'s page never subscribed"
        await person.page.wait_for_timeout(50)
    await person.page.evaluate("window.__signedInOnce = true")


async def _upload(alice: Person, title: str, path: Path) -> None:
    card = alice.card("What you must hand in", title)
    await card.get_by_label(f"for {title}").set_input_files(str(path))
    await card.get_by_role("button", name=f"Upload and submit {title}").click()
    await card.and_(alice.page.locator("[data-status='IN_REVIEW']")).wait_for(timeout=WAIT_MS)


async def test_hr_and_alice_run_an_onboarding_to_completion_live(
    web_server: WebServer, demo: Demo, browser: Browser, tmp_path: Path, clean_queue: None, workers: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    workers(REMINDER_DAYS_BEFORE="[]")
    files = {
        "Identity document": (tmp_path / "passport.png", png()),
        "Signed employment contract": (tmp_path / "contract.pdf", pdf("Employment contract, signed by Alice Martin")),
        "Tax form": (tmp_path / "tax-form.pdf", pdf("Tax form, first scan")),
    }
    for path, content in files.values():
        path.write_bytes(content)
    second_scan = tmp_path / "tax-form-sharper.pdf"
    second_scan.write_bytes(pdf("Tax form, a sharper scan"))

    hr = await _open(browser, web_server.url, "hr", {"width": 1280, "height": 900})
    alice = await _open(browser, web_server.url, "alice", {"width": 390, "height": 844})
    try:
        # 1. sign-in: HR picks Hannah Reed; Alice reaches her name by Tab and signs in with Enter
        await hr.page.get_by_role("button", name="Hannah Reed").wait_for(timeout=WAIT_MS)
        await hr.shot("0-sign-in")
        await hr.page.get_by_role("button", name="Hannah Reed").click()
        await alice.page.get_by_role("button", name="Alice Martin").wait_for(timeout=WAIT_MS)
        for _ in range(12):
            await alice.page.keyboard.press("Tab")
            if await alice.page.evaluate("document.activeElement?.textContent") == "Alice Martin":
                break
        assert await alice.page.evaluate("document.activeElement?.textContent") == "Alice Martin", "Tab never got there"
        await alice.page.keyboard.press("Enter")
        await _signed_in(hr)
        await _signed_in(alice)
        await hr.shot("1-signed-in")
        await alice.shot("1-signed-in")

        # 2. HR starts Alice's onboarding; it appears on Alice's screen with its three steps
        await hr.page.get_by_label("Person").select_option(label="Alice Martin (alice@acme.example)")
        await hr.page.get_by_label("Due date").fill("2020-01-31")  # in the past: refused, said next to the form
        await hr.page.get_by_role("button", name="Start", exact=True).click()
        refused = hr.page.locator("section:has(h2:has-text('Start an onboarding'))").get_by_role("alert")
        await refused.wait_for(timeout=WAIT_MS)
        assert await refused.inner_text() == "Due date must not be in the past."
        await hr.page.get_by_label("Due date").fill(f"{dt.date.today().year + 1}-01-31")
        await hr.page.get_by_role("button", name="Start", exact=True).click()
        await hr.page.get_by_text("Started Employee onboarding for Alice Martin.").wait_for(timeout=WAIT_MS)
        onboarding = alice.page.locator("article.workflow:has(h3:has-text('Employee onboarding'))")
        await onboarding.and_(alice.page.locator("[data-status='IN_PROGRESS']")).wait_for(timeout=WAIT_MS)
        assert await onboarding.locator("li[data-step-status='PENDING']").count() == 3
        for title in STEPS:
            await alice.card("What you must hand in", title).wait_for(timeout=WAIT_MS)
        inbox = alice.page.locator("section:has(h2:has-text('Waiting on you')) ul.inbox")
        await alice.page.locator("ul.inbox[data-total='3']").wait_for(timeout=WAIT_MS)  # the inbox, live
        assert await inbox.locator("li[data-task-kind='DOCUMENT']").count() == 3
        await hr.shot("2-onboarding-started")
        await alice.shot("2-onboarding-appeared")

        # 3. Alice uploads three real files through the file input (ticket, POST, confirm, submit)
        for title in STEPS:
            await _upload(alice, title, files[title][0])
        assert await alice.page.evaluate("window.__sawProgress === true"), "no progress bar was shown"
        await alice.page.locator("ul.inbox[data-total='0']").wait_for(state="attached", timeout=WAIT_MS)  # empty now
        await alice.shot("3-uploaded")

        # 4. HR's queue shows them, and a document opens as the file Alice sent
        for title in STEPS:
            await (
                hr.card("Review queue", title)
                .and_(hr.page.locator("[data-status='IN_REVIEW']"))
                .wait_for(timeout=WAIT_MS)
            )
        link = hr.card("Review queue", "Identity document").get_by_role("link", name="Open passport.png")
        download = await hr.page.request.get(str(await link.get_attribute("href")))
        assert download.ok and await download.body() == files["Identity document"][1]
        await hr.shot("4-queue-filled")

        # 4b. HR's bell counted the three live, one notification each; marked read, it shows none
        bell = hr.page.locator(".bell")
        await bell.locator(".unread[data-unread='3']").wait_for(timeout=WAIT_MS)
        await bell.get_by_role("button", name="Notifications: 3 unread").click()
        items = bell.locator("li[data-read='false']")
        await items.nth(2).wait_for(timeout=WAIT_MS)
        assert await items.count() == 3 and "waits for your review" in await items.first.inner_text()
        await hr.shot("4-bell")
        await bell.get_by_role("button", name="Mark all read").click()
        await bell.locator(".unread[data-unread='0']").wait_for(timeout=WAIT_MS)
        assert await bell.locator("li[data-read='true']").count() == 3

        # 5. HR rejects the tax form: first without a reason (the sentence shows next to it)
        tax = hr.card("Review queue", "Tax form")
        await tax.get_by_role("button", name="Reject Tax form").click()
        blank = tax.get_by_role("alert")
        await blank.wait_for(timeout=WAIT_MS)
        assert "must not be blank" in (await blank.inner_text()) and "VALIDATION" not in await blank.inner_text()
        await hr.shot("5-a-reason-is-needed")
        await tax.get_by_label("Reason for rejecting Tax form").fill(REASON)
        await tax.get_by_role("button", name="Reject Tax form").click()
        await tax.wait_for(state="detached", timeout=WAIT_MS)
        await hr.shot("5-rejected")

        # 6. Alice sees the reason, without reloading, and uploads a new file
        rejected = alice.card("What you must hand in", "Tax form")
        await rejected.and_(alice.page.locator("[data-status='REJECTED']")).wait_for(timeout=WAIT_MS)
        assert REASON in await rejected.locator(".rejection-reason").inner_text()
        await alice.page.locator("ul.inbox[data-total='1']").wait_for(timeout=WAIT_MS)  # back in her inbox
        await alice.shot("6-sees-the-reason")
        await _upload(alice, "Tax form", second_scan)

        # 7. HR approves all three (the tax form once it is back in the queue)
        await (
            hr.card("Review queue", "Tax form")
            .and_(hr.page.locator("[data-status='IN_REVIEW']"))
            .wait_for(timeout=WAIT_MS)
        )
        await hr.shot("7-uploaded-again")
        for title in STEPS:
            card = hr.card("Review queue", title)
            await card.get_by_role("button", name=f"Approve {title}").click()
            await card.wait_for(state="detached", timeout=WAIT_MS)
        await hr.page.locator(
            "section:has(h2:has-text(\"The company's workflows\")) article.workflow[data-status='COMPLETED']"
        ).wait_for(timeout=WAIT_MS)
        await hr.shot("8-all-approved")

        # 8. Alice's screen shows the onboarding COMPLETED
        await onboarding.and_(alice.page.locator("[data-status='COMPLETED']")).wait_for(timeout=WAIT_MS)
        assert await onboarding.locator("li[data-step-status='DONE']").count() == 3
        assert "Completed" in await onboarding.inner_text()
        await alice.shot("8-onboarding-completed")

        for person in (hr, alice):
            await person.still_the_same_page()
        assert await alice.page.evaluate("document.documentElement.scrollWidth") <= 390, "wider than the screen"
    finally:
        for person in (hr, alice):
            if not person.page.is_closed():
                await person.shot("last")
    for person in (hr, alice):
        assert person.escaped == [], f"requests tried to leave the machine: {person.escaped}"
        assert person.failed == [], person.failed

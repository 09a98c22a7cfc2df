"""``/dev/mail``: with SMTP_URL unset, the mails a worker wrote as ``.eml`` files, listed and
readable outside production; production serves no such page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from adapters.jobs.mail import FolderMailer, message
from app.jobs_http import dev_mail_routes
from app.wiring import Container
from domains.notification.mail import RULES, compose
from tests.conftest import LiveServer


async def test_the_written_mails_are_listed_and_readable(settings: Any, database_url: str, tmp_path: Path) -> None:
    container = Container.build(settings.model_copy(update={"data_dir": tmp_path}), database_url)
    mail = compose(RULES["DocumentRejected"], {"kind": "TAX_FORM", "documentId": "d-1"}, "http://127.0.0.1:8000")
    await FolderMailer(tmp_path / "mail").send(message(mail, sender="hr@x.example", to="alice@x.example", event_id=42))
    (written,) = (tmp_path / "mail").glob("*.eml")
    try:
        with LiveServer(container) as server:
            async with httpx.AsyncClient(base_url=server.url) as http:
                listing = await http.get("/dev/mail")
                assert listing.status_code == 200
                assert "Your document was rejected" in listing.text and "alice@x.example" in listing.text
                assert f'href="/dev/mail/{written.name}"' in listing.text
                one = await http.get(f"/dev/mail/{written.name}")
                assert one.status_code == 200
                assert "Your tax form document was rejected" in one.text
                assert "http://127.0.0.1:8000/documents/d-1" in one.text
                assert (await http.get("/dev/mail/..%2Fsecret.eml")).status_code == 404
                assert (await http.get("/dev/mail/42-0000000000000000.eml")).status_code == 404
    finally:
        await container.dispose()


def test_production_has_no_mail_page(settings: Any, database_url: str) -> None:
    production = settings.model_copy(update={"app_env": "production", "jwt_secret": "x" * 40})
    assert dev_mail_routes(Container.build(production, database_url)) == []

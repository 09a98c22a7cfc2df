"""What a webhook message carries (ids and status words, never personal data), the addresses a
delivery may go to, the delivery backoff, and the endpoint checks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import WebhookVerificationError
from svix.webhooks import Webhook

from adapters.jobs.queue import Backoff
from adapters.jobs.webhooks import address_allowed, signed_headers
from domains.kernel.errors import Invalid
from domains.webhook.model import check_endpoint, new_secret, webhook_message


def test_a_message_carries_ids_and_status_but_no_reason_nor_snapshot() -> None:
    payload = {
        "documentId": "d",
        "ownerId": "o",
        "companyId": "c",
        "actorId": "a",
        "kind": "TAX_FORM",
        "status": "REJECTED",
        "previousStatus": "IN_REVIEW",
        "reason": "Alice's passport photo is blurry",
        "workflow": {"title": "Onboarding of Alice"},
        "step": None,
    }
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    message = webhook_message("DocumentRejected", 41, at, payload)
    assert message == {
        "id": "evt_41",
        "type": "DocumentRejected",
        "timestamp": "2026-12-01T09:30:00+00:00",
        "data": {
            "documentId": "d",
            "ownerId": "o",
            "companyId": "c",
            "actorId": "a",
            "kind": "TAX_FORM",
            "status": "REJECTED",
            "previousStatus": "IN_REVIEW",
        },
    }


def test_signed_headers_verify_with_svix() -> None:
    secret, body = new_secret(), '{"id":"evt_1"}'
    headers = signed_headers(secret, "evt_1", body, datetime.now(UTC))
    Webhook(secret).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("fe80::1%eth0", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::ffff:127.0.0.1", False),
        ("fc00::1", False),
    ],
)
def test_only_public_addresses_unless_loopback_is_allowed(address: str, public: bool) -> None:
    assert address_allowed(address, allow_loopback=False) is public
    loopback = address in ("127.0.0.1", "::1", "::ffff:127.0.0.1")
    assert address_allowed(address, allow_loopback=True) is (public or loopback)


def test_backoff_doubles_up_to_an_hour_for_about_a_day() -> None:
    backoff = Backoff(2.0, 35)
    waits = [backoff.wait(n) for n in range(1, 35)]  # 35 attempts: 34 waits
    assert waits[:4] == [2, 4, 8, 16] and max(waits) == 3600
    assert 23 * 3600 < sum(waits) < 25 * 3600


def test_endpoint_checks() -> None:
    known = ["DocumentApproved", "WorkflowStatusChanged"]
    assert check_endpoint(" https://x.example/h ", ["DocumentApproved"] * 2, known) == (
        "https://x.example/h",
        ["DocumentApproved"],
    )
    with pytest.raises(Invalid) as refused:
        check_endpoint("javascript:alert(1)", [], known)
    assert set(refused.value.problems) == {("url",), ("eventTypes",)}


def test_the_readmes_receiver_verifies_a_delivery_and_refuses_a_forged_one() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Jobs: webhooks, mail, the clock", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"^```python\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)
    secret = new_secret()
    body = json.dumps(webhook_message("DocumentApproved", 7, datetime.now(UTC), {"documentId": "d"}))
    headers = signed_headers(secret, "evt_7", body, datetime.now(UTC))
    assert scope["receive"](body.encode(), headers, secret)["data"] == {"documentId": "d"}
    with pytest.raises(WebhookVerificationError):
        scope["receive"](body.replace('"d"', '"e"').encode(), headers, secret)

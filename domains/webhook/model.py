"""A webhook message carries what happened and the ids of what it happened to, never personal
data: a receiver reads the details through the API with its own token.

The message follows the Standard Webhooks payload shape: ``type``, ``timestamp`` (when the
event occurred) and ``data``; ``id`` is the event's id, also sent as the ``webhook-id`` header
(the same on every retry, so a receiver drops a repeat by it).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from domains.kernel.errors import Invalid

SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000
# Payload keys a webhook may carry: ids, and the status and kind words; nothing a person wrote
# (a rejection reason) nor any snapshot of a record.
SAFE_KEYS = frozenset({"status", "previousStatus", "kind", "fileVersion"})


def message_id(event_id: int) -> str:
    return f"evt_{event_id}"


def webhook_message(
    event_type: str, event_id: int, occurred_at: datetime, payload: Mapping[str, Any]
) -> dict[str, Any]:
    data = {
        key: value
        for key, value in payload.items()
        if (key.endswith("Id") and (value is None or isinstance(value, str))) or key in SAFE_KEYS
    }
    return {"id": message_id(event_id), "type": event_type, "timestamp": occurred_at.isoformat(), "data": data}


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_endpoint(url: str, event_types: Iterable[str], known_types: Iterable[str]) -> tuple[str, list[str]]:
    """The URL and event types as stored, or ``Invalid`` naming each problem."""
    problems: dict[tuple[str, ...], list[str]] = {}
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_LENGTH:
        problems[("url",)] = [f"at most {MAX_URL_LENGTH} characters"]
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problems[("url",)] = ["an absolute http or https URL"]
    elif parts.username or parts.password:
        problems[("url",)] = ["no credentials in the URL (the signature authenticates the sender)"]
    known = set(known_types)
    types = list(dict.fromkeys(event_types))
    if not types:
        problems[("eventTypes",)] = ["at least one event type"]
    unknown = [t for t in types if t not in known]
    if unknown:
        problems[("eventTypes",)] = [f"unknown: {', '.join(unknown)} (known: {', '.join(sorted(known))})"]
    if problems:
        raise Invalid(problems)
    return url, types

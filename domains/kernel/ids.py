"""Identifiers: UUIDs inside, Relay global ids (``base64("Type:uuid")``) at the edge."""

from __future__ import annotations

import base64
import binascii
import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def to_global_id(type_name: str, id: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{id}".encode()).decode()


def from_global_id(value: str) -> tuple[str | None, uuid.UUID]:
    """Accepts a Relay global id or a bare UUID; raises ``ValueError`` for anything else."""
    try:
        return None, uuid.UUID(value)
    except ValueError:
        pass
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
        type_name, _, raw = decoded.partition(":")
        return type_name, uuid.UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"{value!r} is not a valid id") from None

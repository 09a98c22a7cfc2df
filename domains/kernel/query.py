"""What a reader may ask for: filters, ordering and keyset pages, as plain data.

The SQL adapter compiles these; the schema builds them from GraphQL input. Neither owns them.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Op(enum.Enum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NIN = "nin"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    LIKE = "like"
    ILIKE = "ilike"
    IS_NULL = "isNull"


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Filter


@dataclass(frozen=True, slots=True)
class Related:
    """Rows with at least one related row matching ``filter`` (an ``EXISTS`` sub-query)."""

    relation: str
    filter: Filter


Filter = Condition | AllOf | AnyOf | Not | Related


def all_of(*parts: Filter | None) -> Filter | None:
    present = tuple(p for p in parts if p is not None)
    if not present:
        return None
    return present[0] if len(present) == 1 else AllOf(present)


@dataclass(frozen=True, slots=True)
class Order:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True, slots=True)
class PageLimits:
    default: int = 20
    maximum: int = 100


# A cursor holds the values of the ordering fields of a row (and its id, the tie-breaker).
# It is opaque to clients; only the shape is checked when it comes back.


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, enum.Enum):
        return {"e": value.value}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "dt":
            return datetime.fromisoformat(raw)
        if tag == "d":
            return date.fromisoformat(raw)
        if tag == "u":
            return uuid.UUID(raw)
        if tag == "e":
            return raw
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, expected_length: int) -> list[Any]:
    """Raises ``ValueError`` when the cursor is not one of ours for this ordering."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("malformed cursor") from None
    if not isinstance(values, list) or len(values) != expected_length:
        raise ValueError("cursor does not match this ordering")
    try:
        return [_decode_value(v) for v in values]
    except (TypeError, ValueError, AttributeError):
        # e.g. {"d": 5} or {"u": "x"}: tagged values whose payload is not what the tag says
        raise ValueError("malformed cursor") from None


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: Filter | None = None
    order: tuple[Order, ...] = field(default_factory=tuple)
    page: PageRequest = field(default_factory=PageRequest)

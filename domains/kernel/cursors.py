"""Cursors coming back from a client: decoded, and checked against the ordering they page.

A cursor is opaque to clients but not tamper-proof, so each value must be of the type of
the field it stands for, or the store would send the database a comparison it cannot make.
Every problem is the same ``Invalid`` naming the argument, with no internal detail.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domains.kernel.entity import EntitySpec, Field, FieldType, all_fields, is_date
from domains.kernel.errors import Invalid
from domains.kernel.query import Order, decode_cursor

_INT_RANGE = range(-(2**31), 2**31)  # the database's integer column


def read_cursor(spec: EntitySpec[Any], order: Sequence[Order], cursor: str, argument: str) -> list[Any]:
    """The values of ``cursor`` for ``order`` (the tie-breaker included); ``Invalid`` otherwise."""
    try:
        values = decode_cursor(cursor, len(order))
    except ValueError:
        raise Invalid.field(argument, "is not a valid cursor for this list and ordering") from None
    fields = {f.name: f for f in all_fields(spec)}
    for o, value in zip(order, values, strict=True):
        if not _fits(fields[o.field], value):
            raise Invalid.field(argument, "is not a valid cursor for this list and ordering")
    return values


def _fits(f: Field, value: Any) -> bool:
    if value is None:
        return not f.required and f.name != "id"
    if f.type is FieldType.STRING:
        return isinstance(value, str) and "\x00" not in value
    if f.type is FieldType.INT:
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT_RANGE
    if f.type is FieldType.FLOAT:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if f.type is FieldType.BOOL:
        return isinstance(value, bool)
    if f.type is FieldType.DATE:
        return is_date(value)
    if f.type is FieldType.DATETIME:
        return isinstance(value, datetime) and value.tzinfo is not None
    if f.type is FieldType.ID:
        return isinstance(value, uuid.UUID)
    if f.type is FieldType.ENUM:
        return f.enum is not None and any(type(value) is type(m.value) and value == m.value for m in f.enum)
    return False


__all__ = ["read_cursor"]

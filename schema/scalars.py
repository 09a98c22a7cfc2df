"""``Date`` and ``DateTime`` that answer bad input in the client's terms, and say which
specification their text follows (``@specifiedBy``), so a frontend's codegen can map them.

Strawberry's own scalars append Python's exception text to the error ("Invalid isoformat
string: 'x'", "invalid literal for int() with base 10"). These say what is expected instead.
Both follow RFC 3339: ``Date`` is a ``full-date`` (2026-01-31), ``DateTime`` a ``date-time``
with its offset (2026-01-31T09:30:00+00:00); a date and time without an offset names no instant,
so it is refused rather than read in the server's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII only: \d would take any digits
_SHOWN = 40  # characters of a bad value repeated back: enough to recognise it, not a dump


def _client_parser(parse: Callable[[str], object], type_name: str, expected: str) -> Callable[[object], object]:
    def parse_value(value: object) -> object:
        shown = repr(value)[:_SHOWN]
        if isinstance(value, str):
            try:
                return parse(value)
            except (ValueError, OverflowError, TypeError):
                pass
        raise StrawberryInputCoercionError(f"{shown} is not a valid {type_name}: expected {expected}")

    return parse_value


def _date(text: str) -> dt.date:
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _datetime(text: str) -> dt.datetime:
    if not _DATE.match(text):
        raise ValueError(text)
    value = dt.datetime.fromisoformat(text)  # ISO 8601, 'Z' included, since Python 3.11
    if value.tzinfo is None:
        raise ValueError(text)
    return value


# The RFC defines both productions in the one section (5.6, "Internet Date/Time Format").
RFC_3339 = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"


CLIENT_SCALARS: dict[object, ScalarDefinition] = {
    dt.date: ScalarDefinition(
        name="Date",
        description="A calendar date, RFC 3339 full-date: 2026-01-31",
        specified_by_url=RFC_3339,
        serialize=dt.date.isoformat,
        parse_value=_client_parser(_date, "Date", "a date as YYYY-MM-DD, e.g. 2026-01-31"),
        parse_literal=None,
        origin=dt.date,
    ),
    dt.datetime: ScalarDefinition(
        name="DateTime",
        description="An instant, RFC 3339 date-time with its offset: 2026-01-31T09:30:00+00:00 (or Z)",
        specified_by_url=RFC_3339,
        serialize=dt.datetime.isoformat,
        parse_value=_client_parser(
            _datetime, "DateTime", "an RFC 3339 date and time with its offset, e.g. 2026-01-31T09:30:00Z"
        ),
        parse_literal=None,
        origin=dt.datetime,
    ),
}

"""``Date`` and ``DateTime`` that answer bad input in the client's terms.

Strawberry's own scalars append Python's exception text to the error ("Invalid isoformat
string: 'x'", "invalid literal for int() with base 10"). These say what is expected instead.
Same names, descriptions and serialisation, so the SDL does not change.
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
    return dt.datetime.fromisoformat(text)  # ISO 8601, 'Z' included, since Python 3.11


CLIENT_SCALARS: dict[object, ScalarDefinition] = {
    dt.date: ScalarDefinition(
        name="Date",
        description="Date (isoformat)",
        specified_by_url=None,
        serialize=dt.date.isoformat,
        parse_value=_client_parser(_date, "Date", "a date as YYYY-MM-DD, e.g. 2026-01-31"),
        parse_literal=None,
        origin=dt.date,
    ),
    dt.datetime: ScalarDefinition(
        name="DateTime",
        description="Date with time (isoformat)",
        specified_by_url=None,
        serialize=dt.datetime.isoformat,
        parse_value=_client_parser(_datetime, "DateTime", "an ISO 8601 date and time, e.g. 2026-01-31T09:30:00Z"),
        parse_literal=None,
        origin=dt.datetime,
    ),
}

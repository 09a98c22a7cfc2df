from __future__ import annotations

import base64
import enum
import uuid
from datetime import UTC, date, datetime

import pytest

from domains.document.model import DocumentStatus
from domains.kernel.ids import from_global_id, new_id, to_global_id
from domains.kernel.query import decode_cursor, encode_cursor


def test_global_id_round_trips_type_and_uuid() -> None:
    id = new_id()
    encoded = to_global_id("Document", id)
    assert encoded != str(id)
    assert from_global_id(encoded) == ("Document", id)


def test_bare_uuid_is_accepted_without_a_type() -> None:
    id = uuid.uuid4()
    assert from_global_id(str(id)) == (None, id)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not an id",
        "%%%",
        base64.b64encode(b"Document:not-a-uuid").decode(),
        base64.b64encode(b"no separator at all").decode(),
        base64.b64encode(b"\xff\xfe\xfd").decode(),
        str(uuid.uuid4())[:-1],
    ],
)
def test_garbage_ids_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        from_global_id(value)


class Colour(enum.Enum):
    RED = "red"


def test_cursor_round_trips_datetime_date_uuid_and_plain_values() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    values = [moment, date(2024, 1, 31), uuid.uuid4(), "text", 3, None]
    decoded = decode_cursor(encode_cursor(values), len(values))
    assert decoded == values
    assert type(decoded[0]) is datetime and decoded[0].tzinfo is not None
    assert type(decoded[1]) is date
    assert isinstance(decoded[2], uuid.UUID)


def test_cursor_brings_enums_back_as_their_value() -> None:
    # The cursor cannot know the enum type; stores compare with the stored value.
    assert decode_cursor(encode_cursor([DocumentStatus.IN_REVIEW, Colour.RED]), 2) == ["IN_REVIEW", "red"]


def test_cursor_is_url_safe() -> None:
    cursor = encode_cursor(["??>>??>>" * 4])
    assert "+" not in cursor and "/" not in cursor


def test_cursor_of_wrong_length_is_rejected() -> None:
    cursor = encode_cursor(["a", uuid.uuid4()])
    with pytest.raises(ValueError, match="ordering"):
        decode_cursor(cursor, 3)
    with pytest.raises(ValueError):
        decode_cursor(cursor, 1)


@pytest.mark.parametrize(
    "cursor",
    ["not base64!", base64.urlsafe_b64encode(b"{not json").decode(), base64.urlsafe_b64encode(b'{"a": 1}').decode()],
)
def test_malformed_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(ValueError):
        decode_cursor(cursor, 1)

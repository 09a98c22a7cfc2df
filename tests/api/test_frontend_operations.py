"""The frontend's operations (frontend/operations/*.graphql) stay valid against the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema as from_sdl
from graphql import parse, validate

from domains.catalog import build_registry
from schema.root import build_schema

OPERATIONS = sorted((Path(__file__).resolve().parents[2] / "frontend" / "operations").glob("*.graphql"))


@pytest.mark.parametrize("path", OPERATIONS, ids=[p.name for p in OPERATIONS])
def test_the_operation_file_is_valid(path: Path) -> None:
    schema = from_sdl(str(build_schema(build_registry())))
    assert validate(schema, parse(path.read_text())) == []

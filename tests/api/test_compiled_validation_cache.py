"""A document the service has validated once is not validated again (issue 9), on either path."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

HR = "hr@acme.example"


@pytest.fixture
def validations(monkeypatch) -> list[Any]:
    """Every call of graphql-core's ``validate``, as Strawberry (and the planner) make it."""
    calls: list[Any] = []
    validate = strawberry_schema.validate

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting_validate)
    return calls


def _unseen(selection: str) -> str:
    """A document text no earlier test sent: an alias made up now."""
    return f"{{ {'a' + uuid.uuid4().hex}: __typename {selection} }}"


async def test_the_resolver_path_validates_a_repeated_document_once(resolver_gql, validations) -> None:
    query = _unseen("me { email }")
    for _ in range(3):
        body = await resolver_gql(query, as_user=HR)
        assert not body.get("errors"), body
        assert body["data"]["me"] == {"email": HR}
    assert len(validations) == 1


async def test_the_compiled_path_validates_a_repeated_document_once(gql, validations) -> None:
    query = _unseen("me { email }")
    for _ in range(3):
        body = await gql(query, as_user=HR)
        assert body["data"]["me"] == {"email": HR}
        assert body["extensions"]["sql"]["statements"] == 1  # the compiled statement, checking the user too
    assert len(validations) == 1

"""The seam per-domain packages use: fields on a generated type and root fields, no factory edit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry

from domains.catalog import build_registry
from schema.domain import DomainSchema
from schema.root import build_schema


@strawberry.type
class Greeting:
    text: str


def _shout(root: Any) -> str:
    return root.title.upper()


def _greet(_factory: Any) -> dict[str, Any]:
    def greet() -> Greeting:
        return Greeting(text="hi")

    return {"greet": strawberry.field(resolver=greet)}


def _remind(factory: Any) -> dict[str, Any]:
    def remind(id: strawberry.ID) -> Any:
        return None

    remind.__annotations__["return"] = factory.types["Document"].object | None
    return {"remind_document": strawberry.field(resolver=remind)}


def _ticks(_factory: Any) -> dict[str, Any]:
    async def ticks() -> AsyncIterator[int]:
        yield 1

    return {"ticks": strawberry.subscription(resolver=ticks)}


EXAMPLE = DomainSchema(
    name="example",
    type_fields={"Document": {"shouted_title": strawberry.field(resolver=_shout, description="Loud.")}},
    queries=_greet,
    mutations=_remind,
    subscriptions=_ticks,
    types=(Greeting,),
)


def test_a_domain_adds_fields_to_a_generated_type_and_root_fields() -> None:
    sdl = str(build_schema(build_registry(), [EXAMPLE]))
    assert '"""Loud."""\n  shoutedTitle: String!' in sdl
    assert "greet: Greeting!" in sdl
    assert "remindDocument(id: ID!): Document" in sdl
    assert "type Subscription {\n  ticks: Int!\n}" in sdl
    assert "createDocument(" in sdl  # the generated surface stays


def test_a_domain_may_not_replace_a_generated_field_or_another_domains() -> None:
    replacing = DomainSchema(name="bad", type_fields={"Document": {"title": strawberry.field(resolver=_shout)}})
    with pytest.raises(ValueError, match="may not replace"):
        build_schema(build_registry(), [replacing])
    with pytest.raises(ValueError, match="already exists"):
        build_schema(build_registry(), [EXAMPLE, DomainSchema(name="again", queries=_greet)])
    with pytest.raises(ValueError, match="undeclared"):
        build_schema(build_registry(), [DomainSchema(name="ghost", type_fields={"Ghost": {}})])

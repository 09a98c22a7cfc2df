"""The seam through which a per-domain package (``schema/<d>/``) adds to the generated schema.

The factory derives everything generic from the declarations. What is not generic (a domain's
commands as mutations, fields computed for its type such as ``Document.downloadUrl``, its
queries and subscriptions) a domain package declares as one ``DomainSchema``; ``schema/root.py``
lists the packages and hands their parts to the factory and to the root types. The factory
never learns a domain's name.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import strawberry

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory

FieldsFor = Callable[["EntitySchemaFactory"], Mapping[str, Any]]
"""Root fields (``strawberry.field`` values by Python name), built once the factory has derived
every entity's types, so that they may use them (``factory.types["Document"].object``)."""


def _none(_: EntitySchemaFactory) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class DomainSchema:
    """What one domain adds. ``type_fields``: per entity name, extra fields of its generated
    output type (``strawberry.field`` values by Python name); they may not replace a generated one."""

    name: str
    type_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    queries: FieldsFor = _none
    mutations: FieldsFor = _none
    subscriptions: FieldsFor = _none
    types: Sequence[type] = ()


class Mutation(Protocol):
    """One hand-written mutation, a module of its own (``schema/<d>/mutations/<verb>.py``)."""

    @property
    def name(self) -> str:
        """Its Python name (``approve_document``; GraphQL's ``approveDocument``)."""
        ...

    def field(self, factory: EntitySchemaFactory) -> Any:
        """Its root field, once the factory has derived the types it answers with."""
        ...


@dataclass(frozen=True)
class StaticMutation:
    """A mutation whose answer types are hand-written too (``result``: its result union)."""

    resolve: Callable[..., Awaitable[Any]]
    result: Any
    description: str

    @property
    def name(self) -> str:
        return self.resolve.__name__

    def field(self, factory: EntitySchemaFactory) -> Any:
        return strawberry.field(resolver=self.resolve, graphql_type=self.result, description=self.description)


@dataclass(frozen=True)
class EntityMutation:
    """A mutation whose answer is an entity's generated result union. ``resolve`` is static
    code (a controller: GraphQL input to domain values, one command, the domain value back);
    its return value goes into the entity's generated payload (``DocumentPayload``), or, with
    ``payload``, into a payload of its own holding the entity and the ``extra`` fields (then
    ``resolve`` returns those fields by name). A domain error it raises becomes its typed
    member of the union (``schema/errors.py``)."""

    entity: str
    resolve: Callable[..., Awaitable[Any]]
    description: str
    payload: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    payload_description: str = ""

    @property
    def name(self) -> str:
        return self.resolve.__name__

    def field(self, factory: EntitySchemaFactory) -> Any:
        answer: Callable[[Any], Any]
        if self.payload is None:
            types = factory.types[self.entity]
            answer, result = types.answer, types.result
        else:
            made, result = factory.payload_with(self.payload, self.entity, self.extra, self.payload_description)
            answer = functools.partial(_fill, made)

        resolve = self.resolve

        @functools.wraps(resolve)
        async def answered(*args: Any, **kwargs: Any) -> Any:
            return answer(await resolve(*args, **kwargs))

        return strawberry.field(resolver=answered, graphql_type=result, description=self.description)


def _fill(payload: type, fields: Mapping[str, Any]) -> Any:
    return payload(**fields)


def mutation_fields(mutations: Sequence[Mutation]) -> FieldsFor:
    """A domain's ``mutations`` from its mutation modules, in their order."""

    def fields(factory: EntitySchemaFactory) -> Mapping[str, Any]:
        return {mutation.name: mutation.field(factory) for mutation in mutations}

    return fields


def merged_type_fields(domains: Iterable[DomainSchema]) -> dict[str, dict[str, Any]]:
    """Every domain's extra fields by entity; two domains adding one name is a start-up error."""
    merged: dict[str, dict[str, Any]] = {}
    for domain in domains:
        for entity, fields in domain.type_fields.items():
            target = merged.setdefault(entity, {})
            for name, value in fields.items():
                if name in target:
                    raise ValueError(f"{domain.name} adds {entity}.{name}, which another domain already adds")
                target[name] = value
    return merged


def merged_root_fields(
    factory: EntitySchemaFactory, generated: Mapping[str, Any], parts: Iterable[tuple[str, FieldsFor]]
) -> dict[str, Any]:
    """The generated root fields plus each domain's; a clash with any of them is a start-up error."""
    fields = dict(generated)
    for domain_name, build in parts:
        for name, value in build(factory).items():
            if name in fields:
                raise ValueError(f"{domain_name} adds root field {name!r}, which already exists")
            fields[name] = value
    return fields

"""The seam through which a per-domain package (``schema/<d>/``) adds to the generated schema.

The factory derives everything generic from the declarations. What is not generic (a domain's
commands as mutations, fields computed for its type such as ``Document.downloadUrl``, its
queries and subscriptions) a domain package declares as one ``DomainSchema``; ``schema/root.py``
lists the packages and hands their parts to the factory and to the root types. The factory
never learns a domain's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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

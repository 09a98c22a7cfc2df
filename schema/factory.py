"""The GraphQL side of the entity-schema factory.

``build_entity_schema(registry)`` steps through each declaration and derives, in order:
the output type, the filter and order inputs, create/update inputs, the Relay connection,
the payload and result union, then the query and mutation fields. Types are created as bare
classes first, so that declarations may refer to each other in any order (a User has
Documents, a Document has an owner User), and are handed to Strawberry once all exist.

Resolvers here are controllers: GraphQL input to plain data, a call to the entity's
service (through a dataloader for reads), the domain object back out.
"""

import datetime
import enum
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union

import strawberry

from domains.kernel.entity import EntitySpec, Field, FieldType, Registry, all_fields
from domains.kernel.errors import Invalid
from domains.kernel.events import camel
from domains.kernel.ids import from_global_id, to_global_id
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Order, PageRequest, Related
from schema.connection import ConnectionValue, PageInfo
from schema.context import Info
from schema.errors import MUTATION_ERRORS


@strawberry.enum(description="Sort direction.")
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.interface(description="An object with a Relay global id.")
class Node:
    # Resolved by ``attribute_resolver`` (Strawberry's default resolver) like any plain
    # field, not through a resolver function per type: a page selects ids on every row.
    relay_id: strawberry.ID = strawberry.field(name="id", description="The Relay global id.")


# ---- scalar filter inputs ----------------------------------------------------------------

_ORDERED = ("eq", "ne", "in", "nin", "lt", "lte", "gt", "gte", "isNull")
_TEXT = (*_ORDERED, "like", "ilike")
_EQUALITY = ("eq", "ne", "in", "nin", "isNull")
_LIST_OPS = {"in", "nin"}
_PY_NAMES = {"in": "in_", "isNull": "is_null"}


def _scalar_filter(name: str, value_type: Any, operators: tuple[str, ...], description: str) -> type:
    cls = type(name, (), {"__doc__": description})
    annotations: dict[str, Any] = {}
    for op in operators:
        py_name = _PY_NAMES.get(op, op)
        if op == "isNull":
            annotations[py_name] = bool | None
        elif op in _LIST_OPS:
            annotations[py_name] = list[value_type] | None
        else:
            annotations[py_name] = value_type | None
        setattr(cls, py_name, strawberry.field(name=op, default=None))
    cls.__annotations__ = annotations
    return strawberry.input(cls, description=description)


_SCALAR_FILTERS: dict[FieldType, type] = {
    FieldType.STRING: _scalar_filter("StringFilter", str, _TEXT, "Conditions on a text field."),
    FieldType.INT: _scalar_filter("IntFilter", int, _ORDERED, "Conditions on a whole number."),
    FieldType.FLOAT: _scalar_filter("FloatFilter", float, _ORDERED, "Conditions on a number."),
    FieldType.BOOL: _scalar_filter("BooleanFilter", bool, ("eq", "ne", "isNull"), "Conditions on a flag."),
    FieldType.DATE: _scalar_filter("DateFilter", datetime.date, _ORDERED, "Conditions on a date."),
    FieldType.DATETIME: _scalar_filter("DateTimeFilter", datetime.datetime, _ORDERED, "Conditions on a point in time."),
    FieldType.ID: _scalar_filter("IDFilter", strawberry.ID, _EQUALITY, "Conditions on an id."),
}

_SCALARS: dict[FieldType, Any] = {
    FieldType.STRING: str,
    FieldType.INT: int,
    FieldType.FLOAT: float,
    FieldType.BOOL: bool,
    FieldType.DATE: datetime.date,
    FieldType.DATETIME: datetime.datetime,
    FieldType.ID: strawberry.ID,
}


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def parse_id(value: str, expected_type: str, path: str) -> uuid.UUID:
    """A Relay global id (or a bare UUID) of ``expected_type``; ``Invalid`` naming ``path`` otherwise."""
    try:
        type_name, id = from_global_id(value)
    except ValueError:
        raise Invalid.field(path, "is not a valid id") from None
    if type_name is not None and type_name != expected_type:
        raise Invalid.field(path, f"is not a {expected_type} id")
    return id


@dataclass
class EntityTypes:
    """Everything the factory derived for one entity."""

    spec: EntitySpec[Any]
    # Any, not type: bare classes that gain fields and resolvers before Strawberry decorates them
    object: Any
    filter: Any
    order: Any
    connection: Any
    edge: Any
    create_input: type
    update_input: type
    payload: type
    result: Any = None

    def answer(self, entity: Any) -> Any:
        """The payload member of the result union, holding ``entity``."""
        return self.payload(**{_lower_first(self.spec.name): entity})


class EntitySchemaFactory:
    """``extensions``: per entity name, extra fields of its output type (``strawberry.field``
    values by Python name), from the per-domain packages (``schema/domain.py``)."""

    def __init__(self, registry: Registry, extensions: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.registry = registry
        self.extensions = dict(extensions or {})
        unknown = set(self.extensions) - {spec.name for spec in registry}
        if unknown:
            raise ValueError(f"extensions for undeclared entities: {', '.join(sorted(unknown))}")
        self._enums: dict[type[enum.Enum], Any] = {}
        self._enum_filters: dict[type[enum.Enum], type] = {}
        self.types: dict[str, EntityTypes] = {}

    # ---- the steps -----------------------------------------------------------------------

    def build(self) -> "EntitySchemaFactory":
        for spec in self.registry:
            name = spec.name
            self.types[name] = EntityTypes(
                spec=spec,
                object=type(name, (Node,), {"__doc__": spec.description}),
                filter=type(f"{name}Filter", (), {}),
                order=type(f"{name}Order", (), {}),
                connection=type(f"{name}Connection", (), {}),
                edge=type(f"{name}Edge", (), {}),
                create_input=type(f"Create{name}Input", (), {}),
                update_input=type(f"Update{name}Input", (), {}),
                payload=type(f"{name}Payload", (), {}),
            )
        for types in self.types.values():
            self._fill_object(types)
            self._fill_filter(types)
            self._fill_order(types)
            self._fill_connection(types)
            self._fill_inputs(types)
            self._fill_payload(types)
        return self

    def graphql_enum(self, enum_type: type[enum.Enum]) -> Any:
        """The GraphQL enum of a domain enum, made once: the generated types and a domain's own
        types (``schema/<d>/``) share it."""
        if enum_type not in self._enums:
            self._enums[enum_type] = strawberry.enum(enum_type)
        return self._enums[enum_type]

    def _value_type(self, f: Field) -> Any:
        if f.type is FieldType.ENUM:
            assert f.enum is not None
            return self.graphql_enum(f.enum)
        return _SCALARS[f.type]

    def _fill_object(self, types: EntityTypes) -> None:
        spec, cls = types.spec, types.object
        annotations: dict[str, Any] = {}
        for f in all_fields(spec):
            if f.name == "id":
                continue
            if f.references:
                setattr(
                    cls, f.name, strawberry.field(resolver=_reference_id_resolver(f), description=f.description or None)
                )
                continue
            value_type = self._value_type(f)
            annotations[f.name] = value_type if f.required else value_type | None
            if f.description:
                setattr(cls, f.name, strawberry.field(description=f.description))
        for relation in spec.relations:
            target = self.types[relation.target]
            if relation.many:
                resolver = _has_many_resolver(relation.target, relation.remote, relation.local, target)
            else:
                resolver = _belongs_to_resolver(relation.target, relation.local, target)
            setattr(cls, relation.name, strawberry.field(resolver=resolver, description=relation.description or None))
        for name, extra in self.extensions.get(spec.name, {}).items():
            if name in annotations or hasattr(cls, name):
                raise ValueError(f"an extension of {spec.name} may not replace its generated field {name!r}")
            setattr(cls, name, extra)
        cls.__annotations__ = annotations
        model = spec.model
        cls.is_type_of = classmethod(lambda _cls, obj, _info: isinstance(obj, model))
        strawberry.type(cls, description=spec.description or None)

    def _enum_filter(self, enum_type: type[enum.Enum]) -> type:
        if enum_type not in self._enum_filters:
            self._enum_filters[enum_type] = _scalar_filter(
                f"{enum_type.__name__}Filter",
                self.graphql_enum(enum_type),
                _EQUALITY,
                f"Conditions on a {enum_type.__name__}.",
            )
        return self._enum_filters[enum_type]

    def _fill_filter(self, types: EntityTypes) -> None:
        spec, cls = types.spec, types.filter
        annotations: dict[str, Any] = {
            "and_": list[cls] | None,  # type: ignore[valid-type]
            "or_": list[cls] | None,  # type: ignore[valid-type]
            "not_": cls | None,
        }
        cls.and_ = strawberry.field(name="and", default=None, description="All of these hold.")
        cls.or_ = strawberry.field(name="or", default=None, description="At least one of these holds.")
        cls.not_ = strawberry.field(name="not", default=None, description="This does not hold.")
        for f in all_fields(spec):
            if not f.filterable:
                continue
            if f.type is FieldType.ENUM:
                assert f.enum is not None
                annotations[f.name] = self._enum_filter(f.enum) | None
            else:
                annotations[f.name] = _SCALAR_FILTERS[f.type] | None
            setattr(cls, f.name, None)
        for relation in spec.relations:
            annotations[relation.name] = self.types[relation.target].filter | None
            setattr(
                cls,
                relation.name,
                strawberry.field(
                    default=None,
                    description=f"Has {'some' if relation.many else 'a'} {relation.target} matching this.",
                ),
            )
        cls.__annotations__ = annotations
        strawberry.input(cls, description=f"Which {spec.plural} to return.")

    def _fill_order(self, types: EntityTypes) -> None:
        spec, cls = types.spec, types.order
        cls.__annotations__ = {name: SortDirection | None for name in spec.sortable}
        for name in spec.sortable:
            setattr(cls, name, None)
        strawberry.input(cls, description=f"One sort key for {spec.plural}: set exactly one field.")

    def _fill_connection(self, types: EntityTypes) -> None:
        edge, connection = types.edge, types.connection
        edge.__annotations__ = {"cursor": str, "node": types.object}
        strawberry.type(edge, description=f"A {types.spec.name} in a page.")
        connection.__annotations__ = {"edges": list[edge], "page_info": PageInfo}  # type: ignore[valid-type]

        async def total_count(root: ConnectionValue) -> int:
            return await root.total_count()

        connection.total_count = strawberry.field(
            resolver=total_count, description="How many match in all; counted only when asked for."
        )
        strawberry.type(connection, description=f"A page of {types.spec.plural}.")

    def _fill_inputs(self, types: EntityTypes) -> None:
        spec = types.spec
        create: dict[str, Any] = {}
        update: dict[str, Any] = {}
        for f in spec.fields:
            value_type = self._value_type(f)
            if f.on_create:
                required = f.required and f.name != spec.tenant_field
                create[f.name] = value_type if required else value_type | None
                if not required:
                    setattr(types.create_input, f.name, None)
            if f.on_update:
                update[f.name] = value_type | None
                setattr(types.update_input, f.name, strawberry.UNSET)
        # required fields first: a dataclass wants them before the ones with defaults
        types.create_input.__annotations__ = dict(
            sorted(create.items(), key=lambda item: hasattr(types.create_input, item[0]))
        )
        types.update_input.__annotations__ = update
        strawberry.input(types.create_input, description=f"A new {spec.name}.")
        strawberry.input(types.update_input, description=f"Changes to a {spec.name}; omitted fields stay.")

    def _fill_payload(self, types: EntityTypes) -> None:
        field_name = _lower_first(types.spec.name)
        types.payload.__annotations__ = {field_name: types.object}
        strawberry.type(types.payload, description=f"The {types.spec.name} as it now is.")
        types.result = Annotated[
            Union[(types.payload, *MUTATION_ERRORS)],
            strawberry.union(f"{types.spec.name}Result"),
        ]

    def payload_with(self, name: str, entity: str, extra: Mapping[str, Any], description: str) -> tuple[type, Any]:
        """A payload of a hand-written mutation, ``<name>Payload``: the entity's generated type
        and the ``extra`` fields; and its result union with the typed errors, ``<name>Result``."""
        fields = {_lower_first(entity): self.types[entity].object, **extra}
        payload = type(f"{name}Payload", (), {"__annotations__": fields})
        strawberry.type(payload, description=description)
        members: Any = (payload, *MUTATION_ERRORS)
        return payload, Annotated[Union[members], strawberry.union(f"{name}Result")]  # noqa: UP007

    # ---- the operations ------------------------------------------------------------------

    def query_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for types in self.types.values():
            spec = types.spec
            fields[_lower_first(spec.name)] = strawberry.field(
                resolver=_get_resolver(types), description=f"One {spec.name}, or null when absent or not yours to see."
            )
            fields[spec.plural] = strawberry.field(
                resolver=_list_resolver(types, None), description=f"A page of {spec.plural}."
            )
            for query in spec.queries:
                fields[camel(query.name)] = strawberry.field(
                    resolver=_list_resolver(types, query.name), description=query.description or None
                )
        fields["node"] = strawberry.field(resolver=_node_resolver(self), description="Any object by its global id.")
        return fields

    def mutation_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for types in self.types.values():
            name = types.spec.name
            fields[f"create_{name}"] = strawberry.field(resolver=_create_resolver(types), name=f"create{name}")
            fields[f"update_{name}"] = strawberry.field(resolver=_update_resolver(types), name=f"update{name}")
            fields[f"delete_{name}"] = strawberry.field(
                resolver=_delete_resolver(types), name=f"delete{name}", description="Soft delete: hidden, restorable."
            )
            fields[f"restore_{name}"] = strawberry.field(
                resolver=_restore_resolver(types), name=f"restore{name}", description="Undo a delete (ADMIN)."
            )
        return fields


def attribute_resolver(registry: Registry) -> Any:
    """Strawberry's default resolver for plain fields: attributes, plus the Relay id."""
    type_names = {spec.model: spec.name for spec in registry}

    def resolve(root: Any, name: str) -> Any:
        if name == "relay_id":
            return to_global_id(type_names[type(root)], root.id)
        return getattr(root, name)

    return resolve


# ---- GraphQL input to kernel data ----------------------------------------------------------


def filter_from_input(registry: Registry, spec: EntitySpec[Any], value: Any, path: str = "filter") -> Filter | None:
    if value is None:
        return None
    parts: list[Filter] = []
    for part in value.and_ or ():
        parts.append(filter_from_input(registry, spec, part, f"{path}.and") or AllOf(()))
    if value.or_ is not None:
        parts.append(AnyOf(tuple(filter_from_input(registry, spec, p, f"{path}.or") or AllOf(()) for p in value.or_)))
    if value.not_ is not None:
        parts.append(Not(filter_from_input(registry, spec, value.not_, f"{path}.not") or AllOf(())))
    for f in all_fields(spec):
        conditions = getattr(value, f.name, None) if f.filterable else None
        if conditions is None:
            continue
        for op in Op:
            operand = getattr(conditions, _PY_NAMES.get(op.value, op.value), None)
            if operand is None:
                continue
            if f.type is FieldType.ID and op is not Op.IS_NULL:
                target = f.references or spec.name
                where = f"{path}.{camel(f.name)}.{op.value}"
                operand = (
                    [parse_id(v, target, where) for v in operand]
                    if op in (Op.IN, Op.NIN)
                    else parse_id(operand, target, where)
                )
            parts.append(Condition(f.name, op, operand))
    for relation in spec.relations:
        inner = getattr(value, relation.name, None)
        if inner is not None:
            related = registry[relation.target]
            parts.append(
                Related(
                    relation.name, filter_from_input(registry, related, inner, f"{path}.{relation.name}") or AllOf(())
                )
            )
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def order_from_input(spec: EntitySpec[Any], values: list[Any] | None) -> tuple[Order, ...]:
    order: list[Order] = []
    for value in values or ():
        chosen = [(name, getattr(value, name)) for name in spec.sortable if getattr(value, name) is not None]
        if len(chosen) != 1:
            raise Invalid.field("orderBy", "each entry must set exactly one field")
        name, direction = chosen[0]
        order.append(Order(name, descending=direction is SortDirection.DESC))
    return tuple(order)


def data_from_input(spec: EntitySpec[Any], value: Any, *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in spec.fields:
        if not (f.on_create if creating else f.on_update):
            continue
        given = getattr(value, f.name, strawberry.UNSET)
        if given is strawberry.UNSET or (creating and given is None):
            continue
        if f.references and given is not None:
            given = parse_id(given, f.references, camel(f.name))
        data[f.name] = given
    return data


# ---- resolvers -----------------------------------------------------------------------------
# Each builder returns a plain async function whose annotations Strawberry reads; the types
# are the ones the factory derived, so they are set here rather than written in a signature.


def _annotate(fn: Any, **annotations: Any) -> Any:
    fn.__annotations__ = annotations
    return fn


def _reference_id_resolver(f: Field) -> Any:
    target, attribute = f.references, f.name
    assert target is not None

    def resolve(root: Any) -> strawberry.ID | None:
        value = getattr(root, attribute)
        return None if value is None else strawberry.ID(to_global_id(target, value))

    return _annotate(resolve, root=Any, **{"return": strawberry.ID if f.required else strawberry.ID | None})


def _belongs_to_resolver(target: str, local: str, target_types: EntityTypes) -> Any:
    async def resolve(root: Any, info: Info) -> Any:
        key = getattr(root, local)
        if key is None:
            return None
        return await info.context.loaders.by_id(target).load(key)

    return _annotate(resolve, root=Any, info=Info, **{"return": target_types.object | None})


def _has_many_resolver(target: str, remote: str, local: str, target_types: EntityTypes) -> Any:
    spec = target_types.spec

    async def resolve(
        root: Any, info: Info, filter: Any = None, order_by: Any = None, first: Any = None, after: Any = None
    ) -> Any:
        context = info.context
        registry = context.service(target).registry
        where = filter_from_input(registry, spec, filter)
        order = order_from_input(spec, order_by)
        key = getattr(root, local)
        page = await context.loaders.by_key(target, remote, where, order, first, after).load(key)

        async def count() -> int:
            return await context.loaders.count_by_key(target, remote, where).load(key)

        return ConnectionValue(page, count)

    return _annotate(
        resolve,
        root=Any,
        info=Info,
        filter=target_types.filter | None,
        order_by=list[target_types.order] | None,  # type: ignore[name-defined]
        first=int | None,
        after=str | None,
        **{"return": target_types.connection},
    )


async def _by_global_id(info: Info, id: str, types: set[str] | frozenset[str]) -> Any:
    """The object, or None when the id is malformed, of another type, absent or not visible.

    Anonymous callers never get here: ``ErrorMapping`` refuses their operation first."""
    try:
        type_name, key = from_global_id(id)
    except ValueError:
        return None
    if type_name is None and len(types) == 1:
        (type_name,) = types
    if type_name is None or type_name not in types:
        return None
    return await info.context.loaders.by_id(type_name).load(key)


def _get_resolver(types: EntityTypes) -> Any:
    name = frozenset({types.spec.name})

    async def resolve(info: Info, id: strawberry.ID) -> Any:
        return await _by_global_id(info, id, name)

    return _annotate(resolve, info=Info, id=strawberry.ID, **{"return": types.object | None})


def _list_resolver(types: EntityTypes, named: str | None) -> Any:
    spec = types.spec

    async def resolve(
        info: Info,
        filter: Any = None,
        order_by: Any = None,
        first: Any = None,
        after: Any = None,
        last: Any = None,
        before: Any = None,
    ) -> Any:
        context = info.context
        service = context.service(spec.name)
        viewer = context.viewer
        where = filter_from_input(service.registry, spec, filter)
        order = order_from_input(spec, order_by)
        page_request = PageRequest(first=first, after=after, last=last, before=before)
        if named is None:
            page = await service.list(viewer, where, order, page_request)

            async def count() -> int:
                return await service.count(viewer, where)
        else:
            page = await service.list_named(viewer, named, where, order, page_request)

            async def count() -> int:
                return await service.count_named(viewer, named, where)

        return ConnectionValue(page, count)

    return _annotate(
        resolve,
        info=Info,
        filter=types.filter | None,
        order_by=list[types.order] | None,  # type: ignore[name-defined]
        first=int | None,
        after=str | None,
        last=int | None,
        before=str | None,
        **{"return": types.connection},
    )


def _node_resolver(factory: EntitySchemaFactory) -> Any:
    names = frozenset(factory.types)

    async def resolve(info: Info, id: strawberry.ID) -> Node | None:
        return await _by_global_id(info, id, names)  # type: ignore[no-any-return]

    return resolve


async def _mutate(info: Info, types: EntityTypes, change: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    """A controller: the entity service's write is the use case and owns its transaction. A
    domain error raised here becomes the result union's error member (``schema/errors.py``)."""
    context = info.context
    return types.answer(await change(context.service(types.spec.name), context.viewer))


def _create_resolver(types: EntityTypes) -> Any:
    spec = types.spec

    async def resolve(info: Info, input: Any) -> Any:
        data = data_from_input(spec, input, creating=True)
        return await _mutate(info, types, lambda service, viewer: service.create(viewer, data))

    return _annotate(resolve, info=Info, input=types.create_input, **{"return": types.result})


def _update_resolver(types: EntityTypes) -> Any:
    spec = types.spec

    async def resolve(info: Info, id: strawberry.ID, input: Any, expected_version: int) -> Any:
        key = parse_id(id, spec.name, "id")
        data = data_from_input(spec, input, creating=False)
        return await _mutate(info, types, lambda service, viewer: service.update(viewer, key, data, expected_version))

    return _annotate(
        resolve,
        info=Info,
        id=strawberry.ID,
        input=types.update_input,
        expected_version=int,
        **{"return": types.result},
    )


def _delete_resolver(types: EntityTypes) -> Any:
    spec = types.spec

    async def resolve(info: Info, id: strawberry.ID, expected_version: int) -> Any:
        key = parse_id(id, spec.name, "id")
        return await _mutate(info, types, lambda service, viewer: service.delete(viewer, key, expected_version))

    return _annotate(resolve, info=Info, id=strawberry.ID, expected_version=int, **{"return": types.result})


def _restore_resolver(types: EntityTypes) -> Any:
    spec = types.spec

    async def resolve(info: Info, id: strawberry.ID) -> Any:
        key = parse_id(id, spec.name, "id")
        return await _mutate(info, types, lambda service, viewer: service.restore(viewer, key))

    return _annotate(resolve, info=Info, id=strawberry.ID, **{"return": types.result})


__all__ = ["EntitySchemaFactory", "EntityTypes", "Node", "SortDirection", "attribute_resolver"]

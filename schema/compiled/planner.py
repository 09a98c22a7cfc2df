"""From a GraphQL read to a ``ReadPlan``, or None when the resolver path must answer it.

Only what the declarations generate is planned: entity fields, relations, connections and
their arguments, ``x(id)``, ``node(id)``, ``me``, named queries and ``__typename``. Anything
else (a mutation, introspection, a hand-written field such as ``Document.downloadUrl``, a
directive other than ``@include``/``@skip``) makes the whole operation fall back, so an
answer never mixes the two paths.

Arguments go through the very functions the resolvers use (graphql-core's coercion,
Strawberry's conversion, ``filter_from_input``, ``order_from_input`` and the kernel's page
and ordering checks). Any error among them means fallback: the resolver path then gives the
same typed error it always gives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    specified_rules,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values, get_variable_values
from strawberry.schema.schema import validate_document
from strawberry.types.arguments import convert_arguments

from domains.kernel.entity import EntitySpec, Field, FieldType, NamedQuery, Registry, all_fields
from domains.kernel.errors import DomainError
from domains.kernel.events import camel
from domains.kernel.ids import from_global_id
from domains.kernel.principal import Principal
from domains.kernel.query import Filter, Order, PageLimits, PageRequest, all_of
from domains.kernel.selection import (
    BelongsTo,
    Connection,
    Constant,
    Cursor,
    EdgeNode,
    Edges,
    GlobalId,
    Link,
    NodeField,
    NodeSelection,
    PageInfo,
    PageInfoField,
    PageSlice,
    ReadPlan,
    RootConnection,
    RootConstant,
    RootField,
    RootObject,
    TotalCount,
    Value,
)
from schema.factory import filter_from_input, order_from_input
from schema.limits import MAX_COST, MAX_DOCUMENT_BYTES, MAX_TOKENS, OperationCost, check_fragments

log = logging.getLogger("hrgraph.compiled")

# The value types whose GraphQL serialisation the SQL side reproduces exactly.
_PLAIN_TYPES = {FieldType.STRING, FieldType.INT, FieldType.BOOL, FieldType.DATE, FieldType.DATETIME, FieldType.ENUM}
_PAGE_INFO_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
# Response keys become SQL string literals; GraphQL names already are this, checked anyway.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_STRAWBERRY_DEFINITION = "strawberry-definition"
CACHED_TEXT_LIMIT = 20_000  # characters of a query text that the caches keep


class PageChecks(Protocol):
    """The kernel's checks of a page request (``EntityService``): the same errors, one copy."""

    def page_size(self, page: PageRequest) -> int: ...

    def ordering(self, order: Any) -> tuple[Order, ...]: ...

    def named(self, name: str) -> NamedQuery: ...


class Unsupported(Exception):
    """The operation selects something only the resolver path answers."""


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


class _Operation:
    """What one planning pass needs: the request's variables, fragments and reader."""

    def __init__(
        self,
        variables: VariableValues,
        fragments: dict[str, FragmentDefinitionNode],
        principal: Principal,
        checks: Mapping[str, PageChecks],
    ) -> None:
        self.variables = variables
        self.fragments = fragments
        self.principal = principal
        self.checks = checks


class ReadPlanner:
    def __init__(
        self,
        schema: strawberry.Schema,
        registry: Registry,
        extra_rules: tuple[Any, ...] = (),
        cache_size: int = 256,
    ) -> None:
        self._schema = schema
        self._graphql = schema._schema
        self._registry = registry
        self._rules = (*specified_rules, *extra_rules)
        self._documents = lru_cache(maxsize=cache_size)(self._parse_and_validate)
        self._fields: dict[str, dict[str, Field]] = {}
        self._roots: dict[str, tuple[str, EntitySpec[Any], str | None]] = {}
        self._entity_names = frozenset(spec.name for spec in registry)
        for spec in registry:
            if any(f.type is FieldType.ENUM and not _enum_names_are_values(f) for f in all_fields(spec)):
                continue  # its enums would need a name mapping in SQL: let the resolvers answer
            self._fields[spec.name] = {camel(f.name): f for f in all_fields(spec) if f.name != "id"}
            self._roots[_lower_first(spec.name)] = ("get", spec, None)
            self._roots[spec.plural] = ("list", spec, None)
            for query in spec.queries:
                self._roots[camel(query.name)] = ("list", spec, query.name)

    # ---- the document, parsed and validated once per text -------------------------------

    def _parse_and_validate(self, query: str) -> DocumentNode | None:
        if len(query.encode()) > MAX_DOCUMENT_BYTES:
            return None  # the resolver path refuses it with its typed error
        try:
            # the resolver path's token cap: no document costs more than that to parse
            document = parse(query, max_tokens=MAX_TOKENS)
            check_fragments(document)  # refused as on the resolver path, before the rules
        except GraphQLError:
            return None
        if validate_document(self._graphql, document, self._rules):
            return None
        return document

    # ---- planning -------------------------------------------------------------------------

    def plan(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        principal: Principal,
        checks: Mapping[str, PageChecks],
    ) -> ReadPlan | None:
        # Kept only for texts of a sensible size, so that the cache cannot be made to hold
        # hundreds of megabytes; longer ones are parsed and validated each time.
        document = self._documents(query) if len(query) <= CACHED_TEXT_LIMIT else self._parse_and_validate(query)
        if document is None:
            return None
        try:
            if self._over_cost(document, variables or {}, operation_name, checks):
                return None  # the resolver path refuses it with QUERY_TOO_COMPLEX
            return self._plan(document, variables or {}, operation_name, principal, checks)
        except (Unsupported, DomainError, GraphQLError) as reason:
            log.debug("resolver path for this operation: %r", reason)
            return None
        except Exception:  # a planner bug must cost speed, never an answer
            log.exception("compiled read planning failed; the resolver path answers")
            return None

    def _over_cost(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
        checks: Mapping[str, PageChecks],
    ) -> bool:
        """The same cost limit as the resolver path's, with the same page sizes."""
        limits = getattr(next(iter(checks.values()), None), "limits", None)
        cost = OperationCost(
            self._graphql, document, variables, limits if isinstance(limits, PageLimits) else PageLimits()
        )
        return cost.of_operation(operation_name) > MAX_COST

    def _plan(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
        principal: Principal,
        checks: Mapping[str, PageChecks],
    ) -> ReadPlan:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
        if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
            raise Unsupported("not exactly one query")
        operation = operations[0]
        coerced = get_variable_values(self._graphql, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            raise Unsupported("variables do not coerce")
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        context = _Operation(coerced, fragments, principal, checks)
        query_type = self._graphql.query_type
        assert query_type is not None
        fields: list[RootField] = []
        for key, nodes in self._collect(context, [operation.selection_set], query_type).items():
            fields.append(self._root_field(context, query_type, key, nodes))
        name = operation.name.value if operation.name else None
        return ReadPlan(operation_name=name, fields=tuple(fields))

    def _root_field(
        self, context: _Operation, query_type: GraphQLObjectType, key: str, nodes: list[FieldNode]
    ) -> RootField:
        name = nodes[0].name.value
        if name == "__typename":
            return RootConstant(Constant(key, query_type.name))
        if name == "me":
            return RootObject(key, context.principal.user_id, self._node(context, "User", nodes))
        if name == "node":
            arguments = self._arguments(context, query_type, nodes[0])
            return self._by_global_id(context, key, nodes, arguments["id"], None)
        if name not in self._roots:
            raise Unsupported(f"root field {name}")
        kind, spec, named = self._roots[name]
        arguments = self._arguments(context, query_type, nodes[0])
        if kind == "get":
            return self._by_global_id(context, key, nodes, arguments["id"], spec.name)
        return RootConnection(self._connection(context, key, nodes, query_type, spec, arguments, named, None))

    def _by_global_id(
        self, context: _Operation, key: str, nodes: list[FieldNode], value: str, only: str | None
    ) -> RootObject:
        """As ``_by_global_id`` in the factory: malformed, foreign or unknown ids are null."""
        try:
            type_name, id = from_global_id(value)
        except ValueError:
            return RootObject(key, None, None)
        if type_name is None and only is not None:
            type_name = only
        if type_name not in ({only} if only is not None else self._entity_names):
            return RootObject(key, None, None)
        assert type_name is not None
        return RootObject(key, id, self._node(context, type_name, nodes))

    def _node(self, context: _Operation, entity: str, nodes: list[FieldNode]) -> NodeSelection:
        if entity not in self._fields:
            raise Unsupported(f"{entity} is not compiled")
        object_type = self._graphql.get_type(entity)
        assert isinstance(object_type, GraphQLObjectType)
        spec = self._registry[entity]
        declared = self._fields[entity]
        relations = {r.name: r for r in spec.relations}
        fields: list[NodeField] = []
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        for key, field_nodes in self._collect(context, selections, object_type).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                fields.append(Constant(key, entity))
            elif name == "id":
                fields.append(GlobalId(key, "id", entity))
            elif name in declared:
                f = declared[name]
                if f.references:
                    fields.append(GlobalId(key, f.name, f.references))
                elif f.type in _PLAIN_TYPES:
                    fields.append(Value(key, f.name, f.type))
                else:
                    raise Unsupported(f"{entity}.{name} of type {f.type}")
            elif name in relations:
                relation = relations[name]
                if relation.many:
                    arguments = self._arguments(context, object_type, field_nodes[0])
                    target = self._registry[relation.target]
                    link = Link(remote=relation.remote, local=relation.local)
                    fields.append(
                        self._connection(context, key, field_nodes, object_type, target, arguments, None, link)
                    )
                else:
                    fields.append(BelongsTo(key, relation.local, self._node(context, relation.target, field_nodes)))
            else:
                raise Unsupported(f"{entity}.{name} is not generated")
        if len(fields) > 50:
            raise Unsupported("json_build_object takes at most 100 arguments")
        return NodeSelection(entity, tuple(fields))

    def _connection(
        self,
        context: _Operation,
        key: str,
        nodes: list[FieldNode],
        parent: GraphQLObjectType,
        spec: EntitySpec[Any],
        arguments: dict[str, Any],
        named: str | None,
        link: Link | None,
    ) -> Connection:
        checks = context.checks[spec.name]
        where: Filter | None = filter_from_input(self._registry, spec, arguments.get("filter"))
        order: tuple[Order, ...] = order_from_input(spec, arguments.get("order_by"))
        if link is None:
            page = PageRequest(
                first=arguments.get("first"),
                after=arguments.get("after"),
                last=arguments.get("last"),
                before=arguments.get("before"),
            )
            if named is not None:
                query = checks.named(named)
                where = all_of(query.filter(context.principal), where)
                order = order or query.order
            # As the store's ``find``: ``last``, or ``before`` without ``first``, pages backwards.
            backwards = page.last is not None or (page.before is not None and page.first is None)
            cursor = page.before if backwards else page.after
        else:
            page = PageRequest(first=arguments.get("first"), after=arguments.get("after"))
            backwards, cursor = False, page.after
        slice = PageSlice(
            entity=spec.name,
            filter=where,
            order=checks.ordering(order),
            limit=checks.page_size(page),
            cursor=cursor,
            backwards=backwards,
        )
        connection_type = get_named_type(parent.fields[nodes[0].name.value].type)
        assert isinstance(connection_type, GraphQLObjectType)
        fields: list[TotalCount | PageInfo | Edges | Constant] = []
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        for field_key, field_nodes in self._collect(context, selections, connection_type).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                fields.append(Constant(field_key, connection_type.name))
            elif name == "totalCount":
                fields.append(TotalCount(field_key))
            elif name == "pageInfo":
                fields.append(self._page_info(context, field_key, field_nodes, connection_type))
            elif name == "edges":
                fields.append(self._edges(context, field_key, field_nodes, connection_type, spec))
            else:
                raise Unsupported(f"{connection_type.name}.{name}")
        return Connection(key, slice, link, tuple(fields))

    def _page_info(
        self, context: _Operation, key: str, nodes: list[FieldNode], connection_type: GraphQLObjectType
    ) -> PageInfo:
        page_info_type = get_named_type(connection_type.fields["pageInfo"].type)
        assert isinstance(page_info_type, GraphQLObjectType)
        fields: list[PageInfoField | Constant] = []
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        for field_key, field_nodes in self._collect(context, selections, page_info_type).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                fields.append(Constant(field_key, page_info_type.name))
            elif name in _PAGE_INFO_FIELDS:
                fields.append(PageInfoField(field_key, name))
            else:
                raise Unsupported(f"PageInfo.{name}")
        return PageInfo(key, tuple(fields))

    def _edges(
        self,
        context: _Operation,
        key: str,
        nodes: list[FieldNode],
        connection_type: GraphQLObjectType,
        spec: EntitySpec[Any],
    ) -> Edges:
        edge_type = get_named_type(connection_type.fields["edges"].type)
        assert isinstance(edge_type, GraphQLObjectType)
        fields: list[Cursor | EdgeNode | Constant] = []
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        for field_key, field_nodes in self._collect(context, selections, edge_type).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                fields.append(Constant(field_key, edge_type.name))
            elif name == "cursor":
                fields.append(Cursor(field_key))
            elif name == "node":
                fields.append(EdgeNode(field_key, self._node(context, spec.name, field_nodes)))
            else:
                raise Unsupported(f"{edge_type.name}.{name}")
        return Edges(key, tuple(fields))

    # ---- GraphQL mechanics ----------------------------------------------------------------

    def _arguments(self, context: _Operation, parent: GraphQLObjectType, node: FieldNode) -> dict[str, Any]:
        """The resolver's keyword arguments, converted exactly as Strawberry converts them."""
        field = parent.fields[node.name.value]
        raw = get_argument_values(field, node, context.variables)
        definition = field.extensions[_STRAWBERRY_DEFINITION]
        return convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=self._schema.schema_converter.scalar_registry,
            config=self._schema.config,
        )

    def _collect(
        self, context: _Operation, selection_sets: list[SelectionSetNode], object_type: GraphQLObjectType
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, as graphql-core's field collection groups them."""
        collected: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(context, selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    if not _NAME.fullmatch(key):
                        raise Unsupported(f"response key {key!r}")
                    collected.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition.name.value if selection.type_condition else None
                    if self._applies(condition, object_type):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = context.fragments[name]
                    if self._applies(fragment.type_condition.name.value, object_type):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return collected

    def _applies(self, condition: str | None, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition == object_type.name:
            return True
        abstract = self._graphql.get_type(condition)
        return (
            abstract is not None
            and not isinstance(abstract, GraphQLObjectType)
            and (
                self._graphql.is_sub_type(abstract, object_type)  # type: ignore[arg-type]
            )
        )

    def _included(self, context: _Operation, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("include", "skip"):
                raise Unsupported(f"directive @{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, context.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, context.variables)
        return not (include is not None and include.get("if") is False)


def _enum_names_are_values(f: Field) -> bool:
    assert f.enum is not None
    return all(member.name == member.value for member in f.enum)


__all__ = ["PageChecks", "ReadPlanner", "Unsupported"]

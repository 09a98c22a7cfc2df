"""What one operation may cost before any of it runs: tokens in the document, and the rows
its connections could return.

Depth and alias limits do not bound size: 30 aliases of ``documents(first: 100)`` each
nesting ``users(first: 100)`` pass both and ask for 300,000 rows. So an operation's cost is
counted as the fields it could resolve, with every field inside a connection's ``edges``
counted once per row of the page (``first``/``last``, else the default page) and pages
multiplied through nesting. Fragments are costed once each and reused, so the count itself
takes time linear in the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from domains.kernel.query import PageLimits

# A frontend's largest document is a few hundred tokens; graphql-core stops lexing at the
# limit, so no document costs more than this to parse, however long it is.
MAX_TOKENS = 2_000
MAX_COMMENTS = 200
# ... and a few kilobytes long. A string or a comment is one token whatever its length, so the
# document's size is capped too (an HTTP body may be larger: it also holds the variables).
MAX_DOCUMENT_BYTES = 100_000
# The rows (times fields) one operation may ask for: ten full pages of 100 documents with
# their owner and company fit; a page of 100 within a page of 100 does not.
MAX_COST = 10_000
# Root fields of one mutation (aliases and fragments included): a frontend sends one or two;
# thirty aliased renames were thirty guesses at other tenants' names in one request.
MAX_MUTATIONS = 10

_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef, "__typename": TypeNameMetaFieldDef}


class OperationLimits(SchemaExtension):
    """Caps the parser's tokens and refuses, before execution, an operation over ``max_cost``
    or a mutation of more than ``max_mutations`` root fields."""

    def __init__(
        self, max_tokens: int = MAX_TOKENS, max_cost: int = MAX_COST, max_mutations: int = MAX_MUTATIONS
    ) -> None:
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.max_mutations = max_mutations

    def on_operation(self) -> Iterator[None]:
        options: Any = self.execution_context.parse_options
        options["max_lexical_tokens"] = self.max_tokens
        options["max_comments"] = MAX_COMMENTS
        yield

    def on_parse(self) -> Iterator[None]:
        size = len((self.execution_context.query or "").encode())
        if size > MAX_DOCUMENT_BYTES:
            raise GraphQLError(
                f"the document is {size:,} bytes long, over the limit of {MAX_DOCUMENT_BYTES:,}",
                extensions={"code": "QUERY_TOO_LARGE", "limit": MAX_DOCUMENT_BYTES},
            )
        yield

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            check_fragments(document)
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            refusal = self._refusal(context, document)
            if refusal is not None:
                context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _refusal(self, context: Any, document: DocumentNode) -> GraphQLError | None:
        mutations = mutation_count(document, context.operation_name)
        if mutations > self.max_mutations:
            return GraphQLError(
                f"the operation runs {mutations} mutations, over the limit of {self.max_mutations}:"
                " send them in several requests",
                extensions={"code": "QUERY_TOO_COMPLEX", "mutations": mutations, "limit": self.max_mutations},
            )
        cost = OperationCost(context.schema._schema, document, context.variables or {}, _page_limits(context))
        total = cost.of_operation(context.operation_name)
        if total > self.max_cost:
            return GraphQLError(
                f"the query may cost {total:,}, over the limit of {self.max_cost:,}: ask for "
                "smaller pages (first/last) or nest fewer connections",
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": total, "limit": self.max_cost},
            )
        return None


def mutation_count(document: DocumentNode, operation_name: str | None) -> int:
    """The root fields a mutation runs, each alias and each fragment spread counted (so an
    upper bound: ``@skip`` and ``@include`` are not evaluated); 0 for other operations."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    # Each fragment counted once and reused: spreads that double at every level would
    # otherwise take time exponential in the document (validation has refused cycles).
    counted: dict[str, int] = {}

    def count(selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 0 if selection.name.value.startswith("__") else 1
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                name = selection.name.value
                if name not in counted:
                    counted[name] = 0  # a guard, should a cycle ever get this far
                    counted[name] = count(fragments[name].selection_set)
                total += counted[name]
        return total

    return count(operation.selection_set)


def _page_limits(context: Any) -> PageLimits:
    """The page sizes the services apply (the settings'), so the estimate matches what runs."""
    services = getattr(context.context, "services", None) or {}
    service = next(iter(services.values()), None)
    limits = getattr(service, "limits", None)
    return limits if isinstance(limits, PageLimits) else PageLimits()


class OperationCost:
    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any], limits: PageLimits) -> None:
        self.schema = schema
        self.document = document
        self.variables = variables
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._fragment_costs: dict[str, int] = {}

    def of_operation(self, operation_name: str | None) -> int:
        operation = get_operation_ast(self.document, operation_name)
        if operation is None:
            return 0
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, page=1) if root else 0

    def _selections(self, selection_set: SelectionSetNode, parent: Any, page: int) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, type_, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, page)
        return total

    def _fragment(self, name: str, page: int) -> int:
        # A fragment's cost grows linearly with the page it sits in, so its cost at page 1
        # is computed once, even when it is spread many times.
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        if name not in self._fragment_costs:
            self._fragment_costs[name] = 0  # validation forbids cycles; this guards the walk anyway
            type_ = self.schema.get_type(fragment.type_condition.name.value)
            self._fragment_costs[name] = self._selections(fragment.selection_set, type_, page=1)
        return page * self._fragment_costs[name]

    def _field(self, field: FieldNode, parent: Any, page: int) -> int:
        name = field.name.value
        definition = _META_FIELDS.get(name) or (
            parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        )
        if definition is None or field.selection_set is None:
            return 1
        type_ = get_named_type(definition.type)
        if _is_connection(type_):
            return 1 + self._selections(field.selection_set, type_, page=self._page_size(field))
        rows = page if _is_list(definition.type) else 1
        return 1 + rows * self._selections(field.selection_set, type_, page=1)

    def _page_size(self, field: FieldNode) -> int:
        asked: object = None
        for argument in field.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                asked = int(value.value)
            elif isinstance(value, VariableNode):
                asked = self.variables.get(value.name.value)
            if isinstance(asked, int):
                break
        if not isinstance(asked, int) or isinstance(asked, bool):
            return self.limits.default
        # Above the maximum the field is refused as INVALID anyway; that error is the clearer one.
        return max(0, min(asked, self.limits.maximum))


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and "edges" in type_.fields and "pageInfo" in type_.fields


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def check_fragments(document: DocumentNode) -> None:
    """Refuses spreads of unknown fragments and fragment cycles before the validation rules
    run: graphql-core reports both, but Strawberry's QueryDepthLimiter walks the fragments
    first and fails on them (KeyError, endless recursion), which would make a client's
    mistake look like our fault. The messages are graphql-core's own."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    spreads: dict[str, list[str]] = {}
    for definition in document.definitions:
        for name in _spread_names(getattr(definition, "selection_set", None)):
            if name not in fragments:
                raise GraphQLError(f"Unknown fragment '{name}'.", extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
    for name, fragment in fragments.items():
        spreads[name] = list(_spread_names(fragment.selection_set))
    finished: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise GraphQLError(
                f"Cannot spread fragment '{name}' within itself.", extensions={"code": "GRAPHQL_VALIDATION_FAILED"}
            )
        if name in finished:
            return
        for spread in spreads.get(name, ()):
            visit(spread, (*path, name))
        finished.add(name)

    for name in fragments:
        visit(name, ())


def _spread_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    pending = [selection_set] if selection_set is not None else []
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                pending.append(selection.selection_set)

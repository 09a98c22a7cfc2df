"""What one operation may cost before any of it runs: tokens in the document, its depth and
aliases, and the rows its connections could return.

Depth and alias limits do not bound size: 30 aliases of ``documents(first: 100)`` each
nesting ``users(first: 100)`` pass both and ask for 300,000 rows. So an operation's cost is
counted as the fields it could resolve, with every field inside a connection's ``edges``
counted once per row of the page (``first``/``last``, else the default page) and pages
multiplied through nesting. Fragments are costed once each and reused, so the count itself
takes time linear in the document.

Every count here walks each fragment once and reuses what it found wherever the fragment is
spread: a fragment that spreads the one before it twice, forty times over, is a short
document whose expansion has 2**40 selections. Strawberry's ``QueryDepthLimiter`` and
``MaxAliasesLimiter`` walked every expansion (1 s at 18 levels, hours at 40); the depth and
alias limits here are the same limits, with the same messages, in time linear in the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
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
# Fields nested in fields, and aliased fields in the whole document (each spread of a fragment
# counts its aliases again), as Strawberry's QueryDepthLimiter and MaxAliasesLimiter count them.
MAX_DEPTH = 10
MAX_ALIASES = 30
# Costs stop growing here: fragments that double at every level are legitimately worth 2**n,
# and the estimate only needs to say that it is far over MAX_COST.
COST_CEILING = 1_000_000_000_000

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
            at_least = "at least " if total >= COST_CEILING else ""
            return GraphQLError(
                f"the query may cost {at_least}{total:,}, over the limit of {self.max_cost:,}: ask for "
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
    """The rows times fields an operation could return, up to ``COST_CEILING``."""

    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any], limits: PageLimits) -> None:
        self.schema = schema
        self.document = document
        self.variables = variables
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._fragment_costs: dict[tuple[str, int], int] = {}

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
        return min(total, COST_CEILING)

    def _fragment(self, name: str, page: int) -> int:
        # Costed once per page size it sits in (a handful: 1 and the pages asked for), however
        # often it is spread: the walk takes time linear in the document.
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        key = (name, page)
        if key not in self._fragment_costs:
            self._fragment_costs[key] = 0  # validation forbids cycles; this guards the walk anyway
            type_ = self.schema.get_type(fragment.type_condition.name.value)
            self._fragment_costs[key] = self._selections(fragment.selection_set, type_, page)
        return self._fragment_costs[key]

    def _field(self, field: FieldNode, parent: Any, page: int) -> int:
        name = field.name.value
        definition = _META_FIELDS.get(name) or (
            parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        )
        if definition is None or field.selection_set is None:
            return 1
        type_ = get_named_type(definition.type)
        if _is_connection(type_):
            return min(1 + self._selections(field.selection_set, type_, page=self._page_size(field)), COST_CEILING)
        rows = page if _is_list(definition.type) else 1
        return min(1 + rows * self._selections(field.selection_set, type_, page=1), COST_CEILING)

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
    run, with graphql-core's own messages (its rules report both too, among other errors).
    Each fragment is visited once."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for definition in document.definitions:
        for name in _spread_names(getattr(definition, "selection_set", None)):
            if name not in fragments:
                raise GraphQLError(f"Unknown fragment '{name}'.", extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
    spreads = {name: list(_spread_names(fragment.selection_set)) for name, fragment in fragments.items()}
    # An iterative depth-first walk: a chain of a few hundred fragments must not exhaust the stack.
    on_path: set[str] = set()
    finished: set[str] = set()
    for start in fragments:
        if start in finished:
            continue
        on_path.add(start)
        stack = [(start, iter(spreads[start]))]
        while stack:
            name, pending = stack[-1]
            spread = next(pending, None)
            if spread is None:
                stack.pop()
                on_path.discard(name)
                finished.add(name)
            elif spread in on_path:
                raise GraphQLError(
                    f"Cannot spread fragment '{spread}' within itself.",
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
            elif spread not in finished:
                on_path.add(spread)
                stack.append((spread, iter(spreads[spread])))


def _spread_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    pending = [selection_set] if selection_set is not None else []
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                pending.append(selection.selection_set)


# ---- depth and aliases, each fragment walked once ------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """What one operation or fragment reaches, fragments it spreads included.

    ``depth`` is the deepest selection's nesting (the fields with selections it sits in; an
    introspection field's own selections are not counted, as in Strawberry's limiter), and
    ``deepest`` that selection; ``aliases`` counts aliased fields, once per spread.
    """

    depth: int
    deepest: Node
    aliases: int


@dataclass(slots=True)
class _Walked:
    depth: int
    deepest: Node
    aliases: int
    # (fragment, the spread's depth, or None under an introspection field: aliases only)
    spreads: list[tuple[str, int | None]]


def _walk(owner: OperationDefinitionNode | FragmentDefinitionNode) -> _Walked:
    """One definition's own selections, its spreads noted but not followed."""
    walked = _Walked(0, owner, 0, [])
    pending: list[tuple[tuple[SelectionNode, ...], int | None]] = [(tuple(owner.selection_set.selections), 0)]
    while pending:
        selections, depth = pending.pop()
        for selection in selections:
            if depth is not None and depth > walked.depth:
                walked.depth, walked.deepest = depth, selection
            if isinstance(selection, FieldNode):
                walked.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    introspection = selection.name.value.startswith("__")
                    inner = None if depth is None or introspection else depth + 1
                    pending.append((tuple(selection.selection_set.selections), inner))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((tuple(selection.selection_set.selections), depth))
            elif isinstance(selection, FragmentSpreadNode):
                walked.spreads.append((selection.name.value, depth))
    return walked


def document_shapes(document: DocumentNode) -> dict[str, Shape]:
    """Each operation's shape, by name (``anonymous`` for the unnamed one), in time linear in
    the document: every fragment is walked once and its shape reused at each spread. An
    unknown fragment adds nothing, and a spread that closes a cycle adds nothing either (both
    are refused by graphql-core's rules, and before that by ``check_fragments``)."""
    walked: dict[str, _Walked] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            walked.setdefault(definition.name.value, _walk(definition))
    shapes: dict[str, Shape] = {}

    def combined(own: _Walked) -> Shape:
        depth, deepest, aliases = own.depth, own.deepest, own.aliases
        for name, at in own.spreads:
            shape = shapes.get(name)
            if shape is None:
                continue
            aliases += shape.aliases
            if at is not None and at + shape.depth > depth:
                depth, deepest = at + shape.depth, shape.deepest
        return Shape(depth, deepest, aliases)

    # Fragments in post-order, iteratively: a chain of a few hundred must not exhaust the stack.
    started: set[str] = set()
    for start in walked:
        if start in started:
            continue
        started.add(start)
        stack = [(start, iter(walked[start].spreads))]
        while stack:
            name, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                shapes[name] = combined(walked[name])
            elif spread[0] in walked and spread[0] not in started:
                started.add(spread[0])
                stack.append((spread[0], iter(walked[spread[0]].spreads)))
    operations: dict[str, Shape] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else "anonymous"
            operations[name] = combined(_walk(definition))
    return operations


class OperationShapeLimits(ValidationRule):
    """Refuses operations nested deeper than ``max_depth`` and documents with more than
    ``max_aliases`` aliased fields, with the messages of Strawberry's QueryDepthLimiter and
    MaxAliasesLimiter (one depth error per operation, at its deepest selection). Without a
    code of its own, a refusal is coded GRAPHQL_VALIDATION_FAILED as every validation error."""

    max_depth = MAX_DEPTH
    max_aliases = MAX_ALIASES

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        shapes = document_shapes(context.document)
        for name, shape in shapes.items():
            if shape.depth > self.max_depth:
                context.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {self.max_depth}", shape.deepest)
                )
        aliases = sum(shape.aliases for shape in shapes.values())
        if aliases > self.max_aliases:
            context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {self.max_aliases}"))

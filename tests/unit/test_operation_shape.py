"""Depth and alias limits, each fragment walked once: the same refusals as Strawberry's
QueryDepthLimiter and MaxAliasesLimiter, in time linear in the document."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSchema, parse, validate
from graphql import build_schema as build_sdl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from domains.catalog import build_registry
from schema.limits import (
    COST_CEILING,
    MAX_ALIASES,
    MAX_DEPTH,
    OperationCost,
    OperationShapeLimits,
    check_fragments,
    document_shapes,
)
from schema.root import OPERATION_LIMIT_RULES, build_schema

# The rules look at the document only; any schema does.
SCHEMA = build_sdl("type Query { a: Query b: Query c: Int }")
STRAWBERRY_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


def _messages(document: str, rules: Any) -> set[str]:
    return {error.message for error in validate(SCHEMA, parse(document), list(rules))}


def _nested(levels: int, inner: str) -> str:
    return "a { " * levels + inner + " }" * levels


def _doubling(levels: int, bottom: str) -> str:
    """F{n} spreads F{n-1} twice, ``levels`` times: 2**levels copies of ``bottom``."""
    parts = [f"query {{ ...F{levels} }}", f"fragment F0 on Query {{ {bottom} }}"]
    parts += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)]
    return " ".join(parts)


def test_the_schema_uses_these_rules_and_no_strawberry_limiter() -> None:
    assert (OperationShapeLimits,) == OPERATION_LIMIT_RULES


@pytest.mark.parametrize(
    "document",
    [
        "{ " + _nested(MAX_DEPTH, "c") + " }",  # at the limit
        "{ " + _nested(MAX_DEPTH + 1, "c") + " }",  # one over
        "query Deep { " + _nested(MAX_DEPTH, "a { c }") + " } query Flat { c }",
        "{ ...F } fragment F on Query { " + _nested(MAX_DEPTH - 2, "...G") + " } fragment G on Query { a { a { c } } }",
        "{ ...F } fragment F on Query { " + _nested(MAX_DEPTH - 2, "...G") + " } fragment G on Query { a { c } }",
        "{ a { ... on Query { " + _nested(MAX_DEPTH, "c") + " } } }",
        "{ __schema { " + _nested(MAX_DEPTH + 2, "name") + " } }",  # introspection's own nesting is free
        "{ " + " ".join(f"x{i}: c" for i in range(MAX_ALIASES)) + " }",
        "{ " + " ".join(f"x{i}: c" for i in range(MAX_ALIASES + 1)) + " }",
        "{ ...F ...F } fragment F on Query { " + " ".join(f"x{i}: c" for i in range(16)) + " }",
        "{ __schema { x: types { ...F } } } fragment F on __Type { y: name z: kind }",
        "query A { x: c } query B { y: c ...F } fragment F on Query { "
        + " ".join(f"z{i}: c" for i in range(29))
        + " }",
    ],
)
def test_the_same_refusals_as_strawberrys_limiters(document: str) -> None:
    assert _messages(document, OPERATION_LIMIT_RULES) == _messages(document, STRAWBERRY_RULES)


@st.composite
def _documents(draw: Any) -> str:
    """Random operations and fragments: nesting, aliases, inline fragments, introspection
    fields, spreads of earlier fragments only (no cycles), small enough for Strawberry."""
    fragments: list[str] = []
    budget = [80]  # selections in all: a document of 3 at every level down to 13 never ends

    def selections(depth: int, names: int) -> str:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            budget[0] -= 1
            kinds = ["leaf", "field", "inline", "spread", "meta"] if budget[0] > 0 else ["leaf", "meta"]
            kind = draw(st.sampled_from(kinds))
            alias = "x: " if draw(st.booleans()) else ""
            if kind == "field" and depth < 13:
                parts.append(f"{alias}a {{ {selections(depth + 1, names)} }}")
            elif kind == "inline" and depth < 13:
                parts.append(f"... on Query {{ {selections(depth + 1, names)} }}")
            elif kind == "spread" and names:
                parts.append(f"...F{draw(st.integers(0, names - 1))}")
            elif kind == "meta":
                parts.append(f"{alias}__typename")
            else:
                parts.append(f"{alias}c")
        return " ".join(parts)

    for n in range(draw(st.integers(0, 4))):
        fragments.append(f"fragment F{n} on Query {{ {selections(draw(st.integers(0, 8)), n)} }}")
    operations = [f"query Q{n} {{ {selections(0, len(fragments))} }}" for n in range(draw(st.integers(1, 2)))]
    return " ".join(operations + fragments)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_random_documents_get_the_same_refusals_as_strawberrys_limiters(document: str) -> None:
    for limits in ((MAX_DEPTH, MAX_ALIASES), (3, 4)):
        ours = type("Limits", (OperationShapeLimits,), {"max_depth": limits[0], "max_aliases": limits[1]})
        theirs = (
            *QueryDepthLimiter(max_depth=limits[0]).validation_rules,
            *MaxAliasesLimiter(max_alias_count=limits[1]).validation_rules,
        )
        assert _messages(document, [ours]) == _messages(document, theirs), document


def test_one_depth_error_per_operation_at_its_deepest_selection() -> None:
    document = "query Deep { " + _nested(MAX_DEPTH + 2, "c c") + " }"
    errors = validate(SCHEMA, parse(document), list(OPERATION_LIMIT_RULES))
    assert [e.message for e in errors] == [f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}"]
    (location,) = errors[0].locations or []
    assert document[location.column - 1] == "c"


def _timed_messages(document: str) -> tuple[list[str], float]:
    parsed = parse(document)
    started = time.perf_counter()
    errors = validate(SCHEMA, parsed, list(OPERATION_LIMIT_RULES))
    return [e.message for e in errors], time.perf_counter() - started


def test_doubling_fragments_are_walked_once_each() -> None:
    """Strawberry's limiters took 1 s at 18 levels and hours at 40; each level doubles."""
    messages, elapsed = _timed_messages(_doubling(40, "x: c"))
    assert messages == [f"{2**40} aliases found. Allowed: {MAX_ALIASES}"]
    assert elapsed < 0.5

    deep = _doubling(40, _nested(MAX_DEPTH + 1, "c"))
    messages, elapsed = _timed_messages(deep)
    assert messages == [f"'anonymous' exceeds maximum operation depth of {MAX_DEPTH}"]
    assert elapsed < 0.5
    at_the_limit = _doubling(40, _nested(MAX_DEPTH, "c"))
    assert document_shapes(parse(at_the_limit))["anonymous"].depth == MAX_DEPTH  # spreads add no depth
    assert _timed_messages(at_the_limit)[0] == []


def test_long_chains_of_fragments_do_not_exhaust_the_stack() -> None:
    levels = 3_000
    chain = ["{ ...F0 }", *(f"fragment F{n} on Query {{ a {{ ...F{n + 1} }} }}" for n in range(levels))]
    document = parse(" ".join([*chain, f"fragment F{levels} on Query {{ x: c }}"]))
    check_fragments(document)
    shape = document_shapes(document)["anonymous"]
    assert (shape.depth, shape.aliases) == (levels, 1)

    cyclic = parse(
        "{ ...F0 } " + " ".join(f"fragment F{n} on Query {{ a {{ ...F{(n + 1) % levels} }} }}" for n in range(levels))
    )
    with pytest.raises(GraphQLError, match=r"Cannot spread fragment 'F0' within itself\."):
        check_fragments(cyclic)
    document_shapes(cyclic)  # a cycle adds nothing and ends


# ---- the cost of fragments -----------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(build_registry())._schema


def _cost(schema: GraphQLSchema, document: str) -> int:
    from domains.kernel.query import PageLimits

    return OperationCost(schema, parse(document), {}, PageLimits()).of_operation(None)


def test_a_fragment_costs_what_its_selections_cost_where_it_is_spread(schema: GraphQLSchema) -> None:
    """Costed per page size it sits in: spread in a page of 50 as it would be inlined there."""
    page = "totalCount edges { node { title owner { email } } }"
    fragment = f" fragment Page on DocumentConnection {{ {page} }}"
    inline = _cost(schema, f"{{ documents(first: 50) {{ {page} }} }}")
    assert inline == 1 + 1 + 1 + 50 * (1 + 1 + 2)  # documents, totalCount, edges, 50 * (node, title, owner)
    assert _cost(schema, "{ documents(first: 50) { ...Page } }" + fragment) == inline
    one = _cost(schema, f"{{ documents(first: 1) {{ {page} }} }}")
    both = "{ a: documents(first: 1) { ...Page } b: documents(first: 50) { ...Page } }" + fragment
    assert _cost(schema, both) == one + inline


def test_doubling_fragments_are_costed_in_linear_time_up_to_a_ceiling(schema: GraphQLSchema) -> None:
    started = time.perf_counter()
    assert _cost(schema, _doubling(30, "__typename")) == 2**30
    assert _cost(schema, _doubling(300, "documents(first: 100) { edges { node { title } } }")) == COST_CEILING
    assert time.perf_counter() - started < 0.5

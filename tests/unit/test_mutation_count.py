"""How many root fields a mutation runs, counted on the parsed document before it runs."""

from __future__ import annotations

import time

from graphql import parse

from schema.limits import mutation_count

CREATE = 'createCompany(input: {name: "x"}) { __typename }'


def test_aliases_fragments_and_inline_fragments_count_meta_fields_do_not() -> None:
    document = parse(
        f"mutation {{ a: {CREATE} b: {CREATE} __typename ...Two ... on Mutation {{ c: {CREATE} ...Two }} }}"
        f" fragment Two on Mutation {{ d: {CREATE} e: {CREATE} }}"
    )
    assert mutation_count(document, None) == 7


def test_only_the_chosen_mutation_counts() -> None:
    document = parse(f"query Q {{ me {{ email }} }} mutation M {{ {CREATE} }}")
    assert mutation_count(document, "Q") == 0
    assert mutation_count(document, "M") == 1
    assert mutation_count(document, "Nope") == 0


def test_doubling_fragment_spreads_are_counted_in_linear_time() -> None:
    """Each level spreads the next twice: 2**60 mutations, well under the 2,000-token cap."""
    levels = 60
    spreads = (f" fragment F{n} on Mutation {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    text = "mutation { ...F0 }" + "".join(spreads)
    document = parse(text + f" fragment F{levels} on Mutation {{ {CREATE} }}")
    started = time.perf_counter()
    assert mutation_count(document, None) == 2**levels
    assert time.perf_counter() - started < 0.5

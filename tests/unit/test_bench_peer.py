"""``make bench-peer``'s mapping, without PostGraphile: every workload has a PostGraphile query,
and the peer's answer, mapped, has exactly the fields the project's query asks for."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
)

from bench.load import QUERIES
from bench.peer_queries import MAPPERS, PEER_QUERIES, peer_payload, to_project
from bench.run import WORKLOADS
from domains.kernel.ids import to_global_id

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ID = "8b0c8c3e-6f0d-4d8e-9a43-1c2b3d4e5f60"


def _operation(query: str) -> OperationDefinitionNode:
    (definition,) = parse(query).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition


def _sample(selection: SelectionSetNode) -> dict[str, Any]:
    """What PostGraphile would answer for ``selection``: one node in every list."""
    out: dict[str, Any] = {}
    for field in selection.selections:
        assert isinstance(field, FieldNode)
        name = field.name.value
        if field.selection_set is not None:
            inner = _sample(field.selection_set)
            out[name] = [inner] if name == "nodes" else inner
        elif name == "id":
            out[name] = SAMPLE_ID
        elif name in ("totalCount", "version"):
            out[name] = 3
        elif name == "hasNextPage":
            out[name] = True
        else:
            out[name] = f"{name} value"
    return out


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, list):
        return set().union(*(_paths(v, prefix + "[]") for v in value))
    if isinstance(value, dict):
        return set().union(*(_paths(v, f"{prefix}.{k}") for k, v in value.items()))
    return {prefix}


def _wanted(selection: SelectionSetNode, prefix: str = "") -> set[str]:
    """The leaf paths the project's query asks for (``edges`` a list; only the success fragment)."""
    out: set[str] = set()
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            assert node.type_condition is not None
            if node.type_condition.name.value != "Error":
                out |= _wanted(node.selection_set, prefix)
            continue
        assert isinstance(node, FieldNode)
        path = f"{prefix}.{node.name.value}" + ("[]" if node.name.value == "edges" else "")
        out |= _wanted(node.selection_set, path) if node.selection_set is not None else {path}
    return out


def test_every_workload_has_a_project_query_a_peer_query_and_a_mapping() -> None:
    assert set(QUERIES) == set(PEER_QUERIES) == set(MAPPERS) == set(WORKLOADS)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_project_query_is_valid_against_the_schema(workload: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert validate(schema, parse(QUERIES[workload])) == []


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_mapped_peer_answer_has_the_project_answers_fields(workload: str) -> None:
    ours, theirs = _operation(QUERIES[workload]), _operation(PEER_QUERIES[workload])
    assert ours.operation == theirs.operation
    mapped = to_project(workload, _sample(theirs.selection_set))
    assert _paths(mapped) == _wanted(ours.selection_set)


def test_ids_become_the_projects_relay_ids_and_errors_stay_as_they_are() -> None:
    answer = {"data": _sample(_operation(PEER_QUERIES["W2"]).selection_set)}
    mapped = peer_payload("W2", answer)
    assert mapped["data"]["document"]["id"] == to_global_id("Document", uuid.UUID(SAMPLE_ID))
    failed = {"errors": [{"message": "no"}], "data": None}
    assert peer_payload("W2", failed) is failed
    assert to_project("W5", {"updateDocumentById": None}) == {"updateDocument": {"__typename": "NotUpdated"}}

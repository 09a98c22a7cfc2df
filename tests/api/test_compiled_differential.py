"""The compiled read path and the resolver path give identical answers (issue 9).

Hypothesis writes GraphQL reads over the generated schema (random selections and nesting,
filters, orderings, pages, cursors, aliases, fragments, variables, ``@include``/``@skip``,
valid and invalid arguments) and sends each, as several people, to two servers on the same
database: the app as configured (compiled reads on) and the app with ``COMPILED_READS=false``.
``data`` and ``errors`` must be equal. ``DIFFERENTIAL_EXAMPLES`` sets how many operations
(``make differential`` runs thousands).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.compiled_reads
from adapters.sql.database import RequestDatabase
from domains.catalog import build_registry
from domains.document.model import DocumentKind
from domains.kernel.entity import EntitySpec, FieldType, all_fields
from domains.kernel.ids import to_global_id

ADMIN, HR, ALICE, GLOBEX_HR = "admin@acme.example", "hr@acme.example", "alice@acme.example", "hr@globex.example"
READERS = (HR, ALICE, ADMIN, GLOBEX_HR)
EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "60"))
REGISTRY = build_registry()
ENTITIES = {spec.name: spec for spec in REGISTRY}
STRINGS = ("Passport copy", "%a%", "%CONTRACT%", "Führungszeugnis", "A", "z", "Alice Martin", "hr@acme.example")
DATES = ("2020-01-01", (dt.date.today() + dt.timedelta(days=20)).isoformat(), "2100-01-01")
DATETIMES = ("2020-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00")
LIST_OPS = ("in", "nin")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@dataclass
class Document:
    """What one generated operation needs besides its text: fragments and variables."""

    ids: dict[str, list[str]]
    fragments: list[str] = field(default_factory=list)
    variable_definitions: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    def variable(self, type_: str, value: Any) -> str:
        name = f"v{len(self.variable_definitions)}"
        self.variable_definitions.append(f"${name}: {type_}")
        self.variables[name] = value
        return f"${name}"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return str(value)


@st.composite
def _value(draw: Any, doc: Document, spec: EntitySpec[Any], f: Any) -> Any:
    if f.type is FieldType.ENUM:
        return draw(st.sampled_from([m.name for m in f.enum]))
    if f.type is FieldType.ID:
        target = f.references or spec.name
        pool = [*doc.ids.get(target, []), "nonsense", str(uuid.uuid4())]
        if draw(st.integers(0, 9)) == 0:  # an id of another type: a typed error on both paths
            pool = [i for ids in doc.ids.values() for i in ids[:1]]
        return draw(st.sampled_from(pool))
    if f.type is FieldType.DATE:
        return draw(st.sampled_from(DATES))
    if f.type is FieldType.DATETIME:
        return draw(st.sampled_from(DATETIMES))
    if f.type is FieldType.INT:
        return draw(st.integers(0, 3))
    if f.type is FieldType.BOOL:
        return draw(st.booleans())
    return draw(st.sampled_from(STRINGS))


@st.composite
def _filter(draw: Any, doc: Document, spec: EntitySpec[Any], depth: int) -> str:
    parts: list[str] = []
    filterable = [f for f in all_fields(spec) if f.filterable]
    for f in draw(st.lists(st.sampled_from(filterable), min_size=0, max_size=2, unique_by=lambda f: f.name)):
        ops = ["eq", "ne", "in", "nin", "isNull"]
        if f.type not in (FieldType.ID, FieldType.ENUM, FieldType.BOOL):
            ops += ["lt", "lte", "gt", "gte"]
        if f.type is FieldType.STRING:
            ops += ["like", "ilike"]
        op = draw(st.sampled_from(ops))
        if op == "isNull":
            operand = _literal(draw(st.booleans()))
        elif op in LIST_OPS:
            values = draw(st.lists(_value(doc, spec, f), min_size=0, max_size=2))
            operand = f"[{', '.join(values)}]" if f.type is FieldType.ENUM else _literal(values)
        else:
            value = draw(_value(doc, spec, f))
            operand = value if f.type is FieldType.ENUM else _literal(value)
        parts.append(f"{_camel(f.name)}: {{{op}: {operand}}}")
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        relation = draw(st.sampled_from(spec.relations))
        parts.append(f"{relation.name}: {draw(_filter(doc, ENTITIES[relation.target], depth - 1))}")
    if depth > 0 and draw(st.integers(0, 4)) == 0:
        combinator = draw(st.sampled_from(["and", "or", "not"]))
        inner = draw(st.lists(_filter(doc, spec, depth - 1), min_size=1, max_size=2))
        parts.append(f"not: {inner[0]}" if combinator == "not" else f"{combinator}: [{', '.join(inner)}]")
    return "{" + ", ".join(parts) + "}"


@st.composite
def _alias(draw: Any, name: str) -> str:
    return draw(st.sampled_from([name, name, f"a{name}: {name}", f"b_{name}: {name}"]))


@st.composite
def _directive(draw: Any, doc: Document) -> str:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return f" @include(if: {doc.variable('Boolean!', draw(st.booleans()))})"
    if choice == 1:
        return f" @skip(if: {_literal(draw(st.booleans()))})"
    return ""


@st.composite
def _arguments(draw: Any, doc: Document, spec: EntitySpec[Any], root: bool) -> str:
    arguments: list[str] = []
    if draw(st.booleans()):
        text = draw(_filter(doc, spec, 2))
        arguments.append(f"filter: {text}")
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(spec.sortable), min_size=1, max_size=2, unique=True))
        order = ", ".join(f"{{{_camel(k)}: {draw(st.sampled_from(['ASC', 'DESC']))}}}" for k in keys)
        if draw(st.integers(0, 19)) == 0:
            order += ", {}"  # an entry with no field: INVALID on both paths
        arguments.append(f"orderBy: [{order}]")
    sizes = st.sampled_from([0, 1, 2, 3, 5, 100, 101, -1])
    names = ["first", "after"] + (["last", "before"] if root else [])
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        if name in ("first", "last"):
            size = draw(sizes)
            value = doc.variable("Int", size) if draw(st.booleans()) else str(size)
        else:
            value = _literal(draw(st.sampled_from([*doc.ids.get("cursor", []), "bm90IGEgY3Vyc29y", "W10="])))
        arguments.append(f"{name}: {value}")
    return f"({', '.join(arguments)})" if arguments else ""


@st.composite
def _node_selection(draw: Any, doc: Document, spec: EntitySpec[Any], depth: int) -> str:
    options = ["__typename", "id", *(_camel(f.name) for f in all_fields(spec) if f.name != "id")]
    if depth > 0:
        options += [r.name for r in spec.relations]
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=5, unique=True))
    parts: list[str] = []
    relations = {r.name: r for r in spec.relations}
    for name in chosen:
        head = draw(_alias(name)) + draw(_directive(doc))
        relation = relations.get(name)
        if relation is None:
            parts.append(head)
        elif relation.many:
            target = ENTITIES[relation.target]
            arguments = draw(_arguments(doc, target, root=False))
            inner = draw(_connection_selection(doc, target, depth - 1))
            parts.append(f"{draw(_alias(name))}{arguments} {inner}")
        else:
            parts.append(f"{head} {{ {draw(_node_selection(doc, ENTITIES[relation.target], depth - 1))} }}")
    body = " ".join(parts)
    wrap = draw(st.integers(0, 5))
    if wrap == 0:
        return f"... on {spec.name} {{ {body} }}"
    if wrap == 1:
        name = f"F{len(doc.fragments)}"
        doc.fragments.append(f"fragment {name} on {spec.name} {{ {body} }}")
        return f"...{name}"
    return body


@st.composite
def _connection_selection(draw: Any, doc: Document, spec: EntitySpec[Any], depth: int) -> str:
    parts: list[str] = []
    for name in draw(
        st.lists(st.sampled_from(["totalCount", "pageInfo", "edges", "__typename"]), min_size=1, unique=True)
    ):
        if name == "pageInfo":
            info = draw(
                st.lists(
                    st.sampled_from(["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]),
                    min_size=1,
                    unique=True,
                )
            )
            parts.append(f"{draw(_alias(name))} {{ {' '.join(info)} }}")
        elif name == "edges":
            edge = []
            if draw(st.booleans()):
                edge.append("cursor")
            if draw(st.integers(0, 5)) == 0:
                edge.append("__typename")
            edge.append(f"node {{ {draw(_node_selection(doc, spec, depth))} }}")
            parts.append(f"{draw(_alias(name))} {{ {' '.join(edge)} }}")
        else:
            parts.append(draw(_alias(name)))
    return "{ " + " ".join(parts) + " }"


@st.composite
def operations(draw: Any, ids: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    doc = Document(ids)
    roots: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["list", "list", "named", "get", "node", "me", "typename"]))
        spec = draw(st.sampled_from(list(ENTITIES.values())))
        depth = draw(st.integers(0, 2))
        if kind == "typename":
            roots.append("__typename")
        elif kind == "me":
            roots.append(f"{draw(_alias('me'))} {{ {draw(_node_selection(doc, ENTITIES['User'], depth))} }}")
        elif kind in ("get", "node"):
            pool = [i for values in ids.values() for i in values if values is not ids.get("cursor")]
            id_value = draw(st.sampled_from(ids.get(spec.name, []) + pool[:3] + ["bad"]))
            argument = doc.variable("ID!", id_value) if draw(st.booleans()) else _literal(id_value)
            name = spec.name[0].lower() + spec.name[1:] if kind == "get" else "node"
            selection = draw(_node_selection(doc, spec, depth))
            if kind == "node" and not selection.startswith("..."):
                selection = f"... on {spec.name} {{ {selection} }} id"
            roots.append(f"{draw(_alias(name))}(id: {argument}) {{ {selection} }}")
        else:
            name = _camel(draw(st.sampled_from(spec.queries)).name) if kind == "named" and spec.queries else spec.plural
            arguments = draw(_arguments(doc, spec, root=True))
            roots.append(f"{draw(_alias(name))}{arguments} {draw(_connection_selection(doc, spec, depth))}")
    variables = f"({', '.join(doc.variable_definitions)})" if doc.variable_definitions else ""
    text = f"query Differential{variables} {{ {' '.join(roots)} }} " + " ".join(doc.fragments)
    return text, doc.variables


async def _arrange(demo: Any) -> dict[str, list[str]]:
    """The demo data plus rows that make paths differ if anything is off: non-ASCII sort
    keys, a soft-deleted document, a manager, many documents for pages."""
    operation = demo.container.operation(RequestDatabase(demo.container.engine))
    services = operation.services
    admin = demo.principal(ADMIN)
    async with operation.uow.transaction():  # the writes join it: one commit
        for i, title in enumerate(["Führungszeugnis", "履歴書 😀", "Zeugnis", "Arbeitsvertrag", "Ärztliches Attest"]):
            await services["Document"].create(
                admin,
                {
                    "owner_id": demo.id(ALICE if i % 2 else HR),
                    "company_id": demo.principal(ALICE).company_id,
                    "title": title,
                    "kind": DocumentKind.OTHER if i % 2 else DocumentKind.CERTIFICATE,
                },
            )
        gone = await services["Document"].create(
            admin,
            {
                "owner_id": demo.id(ALICE),
                "company_id": demo.principal(ALICE).company_id,
                "title": "Deleted",
                "kind": DocumentKind.ID,
            },
        )
        await services["Document"].delete(admin, gone.id, gone.version)
        await services["User"].update(admin, demo.id(ALICE), {"manager_id": demo.id(HR)}, 1)
    ids: dict[str, list[str]] = {}
    async with demo.container.engine.connect() as conn:
        for spec in REGISTRY:
            rows = (await conn.execute(sa.text(f"SELECT id FROM {spec.table} ORDER BY id LIMIT 4"))).all()
            ids[spec.name] = [to_global_id(spec.name, row.id) for row in rows]
    return ids


async def test_compiled_and_resolver_paths_give_identical_answers(
    gql, resolver_gql, live_server, resolver_server, monkeypatch
) -> None:
    ids = await _arrange(gql.demo)
    compiled_answers = [0]
    respond = app.compiled_reads.CompiledReads._response

    def counting_response(self: Any, *args: Any) -> bytes:
        compiled_answers[0] += 1
        return respond(self, *args)

    monkeypatch.setattr(app.compiled_reads.CompiledReads, "_response", counting_response)
    tokens = {who: gql.demo.token(who) for who in READERS}
    # Cursors from real pages, so that `after`/`before` also take valid values.
    with httpx.Client(base_url=resolver_server.url, timeout=30) as client:
        for spec in REGISTRY:
            body = client.post(
                "/graphql",
                json={"query": f"{{ {spec.plural}(first: 3) {{ edges {{ cursor }} }} }}"},
                headers={"authorization": f"Bearer {tokens[ADMIN]}"},
            ).json()
            ids.setdefault("cursor", []).extend(e["cursor"] for e in body["data"][spec.plural]["edges"])

    compiled = httpx.Client(base_url=live_server.url, timeout=30)
    resolvers = httpx.Client(base_url=resolver_server.url, timeout=30)
    checked = [0]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(operation=operations(ids), reader=st.sampled_from(READERS))
    def agree(operation: tuple[str, dict[str, Any]], reader: str) -> None:
        query, variables = operation
        sent = {"query": query, "variables": variables}
        # One request id for both: masked errors carry it.
        headers = {"authorization": f"Bearer {tokens[reader]}", "x-request-id": uuid.uuid4().hex}
        ours = compiled.post("/graphql", json=sent, headers=headers)
        theirs = resolvers.post("/graphql", json=sent, headers=headers)
        assert ours.status_code == theirs.status_code, (query, ours.text, theirs.text)
        a, b = ours.json(), theirs.json()
        assert a.get("data") == b.get("data"), (query, variables, reader)
        assert a.get("errors") == b.get("errors"), (query, variables, reader)
        checked[0] += 1

    try:
        await _in_thread(agree)
    finally:
        compiled.close()
        resolvers.close()
    print(f"differential: {checked[0]} operations, {compiled_answers[0]} answered by the compiled path")
    # Not vacuous: a good share of the generated reads must have taken the compiled path.
    assert compiled_answers[0] >= checked[0] // 4, (compiled_answers[0], checked[0])


async def _in_thread(fn: Any) -> None:
    """Hypothesis drives synchronous HTTP; keep the test's event loop free meanwhile."""
    import asyncio

    await asyncio.to_thread(fn)

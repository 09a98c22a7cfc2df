"""A ``ReadPlan`` root field as ONE SQL statement that returns the field's JSON as text.

PostgreSQL builds the answer: ``json_build_object`` per object, a correlated sub-query per
relation, ``json_agg`` over a keyset page per connection, Relay ids and cursors as text
that is byte for byte what ``domains.kernel.ids.to_global_id`` and
``domains.kernel.query.encode_cursor`` produce. Python sees one text value per root field.

Which rows a reader sees is decided exactly as on the loader path: the kernel's
``read_scope`` and ``scope_relations``, compiled by the same ``FilterCompiler``, the same
``keyset``/``order_columns`` helpers and the same soft-delete condition.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from adapters.sql.filters import FilterCompiler, keyset, order_columns, with_tiebreak
from domains.kernel.access import read_scope, scope_relations
from domains.kernel.cursors import read_cursor
from domains.kernel.entity import EntitySpec, FieldType, Registry, all_fields
from domains.kernel.errors import Invalid
from domains.kernel.principal import Principal
from domains.kernel.query import Filter, Order, all_of
from domains.kernel.selection import (
    BelongsTo,
    Connection,
    Constant,
    Cursor,
    EdgeNode,
    Edges,
    GlobalId,
    NodeSelection,
    PageInfo,
    RootConnection,
    RootConstant,
    RootField,
    RootObject,
    TotalCount,
    Value,
)

ROOT_ID = "root_id"
VIEWER_ID, VIEWER_COMPANY, VIEWER_ROLE = "viewer_id", "viewer_company", "viewer_role"


def viewer_parameters(claimed: Principal) -> dict[str, Any] | None:
    """The bound values of ``stored_user_matches`` for a token's claims, or None when the claims
    cannot match one stored user row (no role, or several): the resolver path decides then."""
    if len(claimed.roles) != 1:
        return None
    (role,) = claimed.roles
    return {VIEWER_ID: claimed.user_id, VIEWER_COMPANY: claimed.company_id, VIEWER_ROLE: role.value}


def parameters(field: RootField, claimed: Principal) -> dict[str, Any]:
    """What ``statement(field, claimed)`` needs at execution (``claimed`` has one role)."""
    viewer = viewer_parameters(claimed)
    assert viewer is not None, "plan compiled reads only for claims with one role"
    return {**viewer, ROOT_ID: field.id} if isinstance(field, RootObject) else viewer


def stored_user_matches(users: sa.FromClause) -> Any:
    """The compiled twin of ``adapters.auth.sign_in.SignIn.user``: the stored user decides.

    True only when the token's user row exists, is not soft-deleted, and has exactly the
    company and the one role the token claims; the statements were planned for those claims,
    so their answer is then the one the resolver path gives with the stored row. Otherwise the
    statement returns no row and the resolver path answers (UNAUTHENTICATED for a missing or
    deleted user; the stored role and company when they changed). Bound parameters, so one
    prepared statement serves every viewer."""
    return sa.exists().where(
        users.c.id == sa.bindparam(VIEWER_ID, type_=sa.Uuid()),
        users.c.deleted_at.is_(None),
        users.c.company_id == sa.bindparam(VIEWER_COMPANY, type_=sa.Uuid()),
        users.c.role == sa.bindparam(VIEWER_ROLE, type_=sa.String()),
    )


class UncompilableRead(Exception):
    """A plan this compiler cannot express exactly (for instance a malformed cursor): the
    caller answers through the resolver path, which raises the proper typed error."""


def _text(value: str) -> Any:
    """A SQL string literal. Only for keys and type names the planner checked are GraphQL names."""
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.Text)


def _key_values(pairs: list[tuple[str, Any]]) -> Any:
    arguments: list[Any] = []
    for key, value in pairs:
        arguments.extend((_text(key), value))
    return sa.func.json_build_object(*arguments)


def _base64(text: Any) -> Any:
    # PostgreSQL wraps base64 at 76 characters; Python's b64encode does not.
    return sa.func.replace(sa.func.encode(sa.func.convert_to(text, _text("UTF8")), _text("base64")), _text("\n"), "")


def global_id(type_name: str, column: Any) -> Any:
    """``to_global_id``: base64 of ``"Type:uuid"``; NULL stays NULL."""
    return _base64(_text(type_name + ":") + sa.cast(column, sa.Text))


def iso_datetime(column: Any) -> Any:
    """``datetime.isoformat()`` of the UTC value asyncpg returns: microseconds only when non-zero."""
    utc = sa.func.timezone(_text("UTC"), column)
    micro = sa.func.to_char(utc, _text("US"))
    fraction = sa.case((micro == _text("000000"), _text("")), else_=_text(".") + micro)
    return sa.func.to_char(utc, _text('YYYY-MM-DD"T"HH24:MI:SS')) + fraction + _text("+00:00")


def ascii_json(column: Any) -> Any:
    """``json.dumps(text)`` with its default ``ensure_ascii``: non-ASCII as ``\\uXXXX`` escapes."""
    as_json = sa.cast(sa.func.to_json(column), sa.Text)
    chars = (
        sa.func.regexp_split_to_table(as_json, _text(""))
        .table_valued("ch", with_ordinality="n")
        .render_derived(name="chars")
    )
    code = sa.func.ascii(chars.c.ch)
    astral = code - 65536
    escaped = sa.case(
        (code < 128, chars.c.ch),
        (code < 65536, _text("\\u") + sa.func.lpad(sa.func.to_hex(code), 4, _text("0"))),
        else_=_text("\\u")
        + sa.func.to_hex(55296 + astral.op(">>")(10))
        + _text("\\u")
        + sa.func.to_hex(56320 + astral.op("&")(1023)),
    )
    slow = sa.select(sa.func.string_agg(escaped, aggregate_order_by(_text(""), chars.c.n))).scalar_subquery()
    return sa.case((column.op("~")(_text("[^\\x01-\\x7f]")), slow), else_=as_json)


class ReadCompiler:
    def __init__(self, registry: Registry, tables: dict[str, sa.Table]) -> None:
        self.registry = registry
        self.tables = tables
        self.filters = FilterCompiler(registry, tables)

    def statement(self, field: RootField, principal: Principal) -> sa.Select[Any] | None:
        """The statement whose one row holds this field's JSON (NULL for an object not found)
        when the stored user matches the claims ``principal`` (``stored_user_matches``), and
        that returns no row otherwise; None when no SQL is needed.

        A ``RootObject``'s id is the parameter ``ROOT_ID``, so that one statement serves every
        id with the same selection and reader (``parameters``)."""
        if isinstance(field, RootConstant):
            return None
        if isinstance(field, RootObject):
            if field.node is None or field.id is None:
                return None
            spec = self.registry[field.node.entity]
            table = self.tables[spec.name].alias()
            found = sa.select(sa.cast(self._node(field.node, table, principal), sa.Text)).where(
                table.c.id == sa.bindparam(ROOT_ID, type_=sa.Uuid()),
                table.c.deleted_at.is_(None),
                self.filters.compile(spec, table, read_scope(spec, principal)),
            )
            # A scalar sub-query: "not found" is a row holding NULL, told apart from "no such viewer".
            return self.for_stored_viewer(found.scalar_subquery())
        assert isinstance(field, RootConnection)
        return self.for_stored_viewer(sa.cast(self._connection(field.connection, None, principal), sa.Text))

    def for_stored_viewer(self, answer: Any) -> sa.Select[Any]:
        """``SELECT answer WHERE <the stored user matches the claims>``: one row, or none."""
        return sa.select(answer).where(stored_user_matches(self.tables["User"].alias()))

    def viewer_check(self) -> sa.Select[Any]:
        """The check alone, for a request whose root fields need no other SQL."""
        return self.for_stored_viewer(sa.true())

    # ---- objects ----------------------------------------------------------------------

    def _node(self, selection: NodeSelection, row: Any, principal: Principal) -> Any:
        pairs: list[tuple[str, Any]] = []
        for field in selection.fields:
            if isinstance(field, Constant):
                pairs.append((field.key, _text(field.value)))
            elif isinstance(field, GlobalId):
                pairs.append((field.key, global_id(field.type_name, row.c[field.column])))
            elif isinstance(field, Value):
                column = row.c[field.column]
                pairs.append((field.key, iso_datetime(column) if field.type is FieldType.DATETIME else column))
            elif isinstance(field, BelongsTo):
                pairs.append((field.key, self._belongs_to(field, row, principal)))
            elif isinstance(field, Connection):
                pairs.append((field.key, self._connection(field, row, principal)))
            else:
                raise UncompilableRead(f"unknown field {field!r}")
        return _key_values(pairs)

    def _belongs_to(self, field: BelongsTo, row: Any, principal: Principal) -> Any:
        """As the by-id loader: the target if present, not deleted and in the reader's scope."""
        spec = self.registry[field.node.entity]
        target = self.tables[spec.name].alias()
        return (
            sa.select(self._node(field.node, target, principal))
            .where(
                target.c.id == row.c[field.local],
                target.c.deleted_at.is_(None),
                self.filters.compile(spec, target, read_scope(spec, principal)),
            )
            .scalar_subquery()
        )

    # ---- connections -------------------------------------------------------------------

    def _scoped(self, spec: EntitySpec[Any], principal: Principal, filter: Filter | None) -> Filter | None:
        # The composition ``EntityService`` applies to every list, count and grouped page.
        return all_of(read_scope(spec, principal), scope_relations(spec, filter, principal, self.registry))

    def _connection(self, connection: Connection, parent: Any, principal: Principal) -> Any:
        page = connection.page
        spec = self.registry[page.entity]
        order = with_tiebreak(page.order)
        scoped = self._scoped(spec, principal, page.filter)

        def matching(table: Any) -> list[Any]:
            conditions = [table.c.deleted_at.is_(None), self.filters.compile(spec, table, scoped)]
            if connection.link is not None:
                conditions.insert(0, table.c[connection.link.remote] == parent.c[connection.link.local])
            return conditions

        table = self.tables[spec.name].alias()
        conditions = matching(table)
        if page.cursor is not None:
            try:
                # the store's one reader: values of the wrong type never reach the database
                values = read_cursor(spec, order, page.cursor, "before" if page.backwards else "after")
            except Invalid as error:
                raise UncompilableRead(str(error)) from None
            conditions.append(keyset(table, order, values, reverse=page.backwards))
        ordering = order_columns(table, order, reverse=page.backwards)
        rows = sa.select(table, sa.func.row_number().over(order_by=ordering).label("_n")).where(*conditions)
        rows = rows.order_by(*ordering).limit(page.limit + 1)
        if parent is not None:
            rows = rows.correlate(parent)
        fetched = rows.subquery()
        kept = fetched.c._n <= page.limit
        more = sa.func.count() > page.limit
        given = sa.true() if page.cursor is not None else sa.false()
        # Backwards, the page was read from the cursor outwards: the last read is shown first.
        shown = fetched.c._n.desc() if page.backwards else fetched.c._n
        cursor = self._cursor(spec, order, fetched)

        pairs: list[tuple[str, Any]] = []
        for field in connection.fields:
            if isinstance(field, Constant):
                pairs.append((field.key, _text(field.value)))
            elif isinstance(field, TotalCount):
                counted = self.tables[spec.name].alias()
                count = sa.select(sa.func.count()).select_from(counted).where(*matching(counted))
                if parent is not None:
                    # Two levels below the parent row: auto-correlation only reaches one.
                    count = count.correlate(parent)
                pairs.append((field.key, count.scalar_subquery()))
            elif isinstance(field, Edges):
                edge = self._edge(field, fetched, cursor, principal)
                agg = sa.func.json_agg(aggregate_order_by(edge, shown)).filter(kept)
                pairs.append((field.key, sa.func.coalesce(agg, sa.literal_column("'[]'::json"))))
            elif isinstance(field, PageInfo):
                info: list[tuple[str, Any]] = []
                for item in field.fields:
                    if isinstance(item, Constant):
                        info.append((item.key, _text(item.value)))
                    elif item.name == "hasNextPage":
                        info.append((item.key, given if page.backwards else more))
                    elif item.name == "hasPreviousPage":
                        info.append((item.key, more if page.backwards else given))
                    else:
                        first = item.name == "startCursor"
                        towards = shown if first else (fetched.c._n if page.backwards else fetched.c._n.desc())
                        cursors = sa.func.json_agg(aggregate_order_by(cursor, towards)).filter(kept)
                        info.append((item.key, sa.Grouping(cursors).op("->>")(0)))
                pairs.append((field.key, _key_values(info)))
            else:
                raise UncompilableRead(f"unknown connection field {field!r}")
        # The page is read even when only totalCount is selected, as the resolvers read it:
        # a cursor that does not fit the columns then fails here too. HAVING makes the rows one
        # group: one answer even when the page is empty.
        statement = sa.select(_key_values(pairs)).select_from(fetched).having(sa.true())
        return statement.scalar_subquery()

    def _edge(self, edges: Edges, row: Any, cursor: Any, principal: Principal) -> Any:
        pairs: list[tuple[str, Any]] = []
        for field in edges.fields:
            if isinstance(field, Constant):
                pairs.append((field.key, _text(field.value)))
            elif isinstance(field, Cursor):
                pairs.append((field.key, cursor))
            elif isinstance(field, EdgeNode):
                pairs.append((field.key, self._node(field.node, row, principal)))
        return _key_values(pairs)

    def _cursor(self, spec: EntitySpec[Any], order: tuple[Order, ...], row: Any) -> Any:
        """``encode_cursor`` of the row's ordering values, built as text in SQL."""
        types = {f.name: f.type for f in all_fields(spec)}
        text = _text("[")
        for i, o in enumerate(order):
            value = sa.func.coalesce(_cursor_value(types[o.field], row.c[o.field]), _text("null"))
            text = text + (_text(",") if i else _text("")) + value
        return sa.func.translate(_base64(text + _text("]")), _text("+/"), _text("-_"))


def _cursor_value(type_: FieldType, column: Any) -> Any:
    """``_encode_value`` in ``domains.kernel.query``, then ``json.dumps``; NULL stays NULL."""
    if type_ is FieldType.DATETIME:
        return _text('{"dt":"') + iso_datetime(column) + _text('"}')
    if type_ is FieldType.DATE:
        return _text('{"d":"') + sa.func.to_char(column, _text("YYYY-MM-DD")) + _text('"}')
    if type_ is FieldType.ID:
        return _text('{"u":"') + sa.cast(column, sa.Text) + _text('"}')
    if type_ is FieldType.ENUM:
        return _text('{"e":') + ascii_json(column) + _text("}")
    if type_ is FieldType.STRING:
        return ascii_json(column)
    if type_ is FieldType.INT:
        return sa.cast(column, sa.Text)
    if type_ is FieldType.BOOL:
        return sa.case((column, _text("true")), (column.is_(False), _text("false")))
    raise UncompilableRead(f"cannot build a cursor over a {type_.value}")

"""Workflows through the real app: commands over HTTP, live status over WebSocket."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from adapters.events.feed import APPLICATION_NAME, OutboxFeed
from domains.kernel.ids import to_global_id
from tests.api.reviews import APPROVED, REJECTED, SUBMITTED, RolledBack, last_event_id, review, step_documents
from tests.api.ws import LEGACY_WS, TRANSPORT_WS, Socket

START = """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename
  ... on WorkflowPayload { workflow { id status overdue dueOn subject { email }
      steps { edges { node { title status overdue documentKind dueOn document { status kind owner { email } } } } } } }
  ... on Error { code message } } }"""

CANCEL = """mutation($id: ID!, $reason: String!, $v: Int!) {
  cancelWorkflow(id: $id, reason: $reason, expectedVersion: $v) {
  __typename ... on WorkflowPayload { workflow { status cancelReason } }
  ... on ConflictError { currentVersion } ... on Error { code message } } }"""

WATCH = """subscription($w: ID, $a: ID) { workflowStatusChanged(workflowId: $w, afterEventId: $a) {
  eventId kind workflowStatus previousWorkflowStatus previousStepStatus occurredAt
  workflow { id status subject { email } }
  step { title status } } }"""

IN_30_DAYS = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def _start_input(demo, subject: str, template: str = "EMPLOYEE_ONBOARDING", due: str = IN_30_DAYS) -> dict:
    return {"input": {"template": template, "subjectUserId": to_global_id("User", demo.id(subject)), "dueDate": due}}


async def _version(gql, workflow_id: str) -> int:
    query = "query($id: ID!) { workflow(id: $id) { version } }"
    found = await gql.data(query, {"id": workflow_id}, as_user="hr@acme.example")
    return int(found["workflow"]["version"])


async def _start(gql, subject: str = "alice@acme.example", as_user: str = "hr@acme.example") -> dict:
    data = await gql.data(START, _start_input(gql.demo, subject), as_user=as_user)
    assert data["startWorkflow"]["__typename"] == "WorkflowPayload", data
    return data["startWorkflow"]["workflow"]


async def _watch(live_server, demo, email: str, *, protocol: str = TRANSPORT_WS, **variables) -> Socket:
    socket = await Socket.open(live_server.url, demo.token(email), protocol=protocol)
    await socket.acknowledged()
    if "a" not in variables:  # subscribe after what exists now: nothing committed later is missed
        variables["a"] = str(await last_event_id(demo.container))
    await socket.start(WATCH, variables)
    return socket


async def _changes(socket: Socket, count: int) -> list[dict]:
    changes = []
    while len(changes) < count:
        _, payload = await socket.next_payload()
        assert not payload.get("errors"), payload
        changes.append(payload["data"]["workflowStatusChanged"])
    return changes


def _moves(changes: list[dict]) -> list[tuple[str | None, str | None, str]]:
    """(the step's title or None for the workflow's own move, from, to), from the typed fields."""
    moves: list[tuple[str | None, str | None, str]] = []
    for c in changes:
        assert c["workflowStatus"] == c["workflow"]["status"]
        if c["kind"] == "STEP_STATUS_CHANGED":
            assert c["previousWorkflowStatus"] is None
            moves.append((c["step"]["title"], c["previousStepStatus"], c["step"]["status"]))
        else:
            assert c["kind"] in ("WORKFLOW_STARTED", "WORKFLOW_STATUS_CHANGED")
            assert c["step"] is None and c["previousStepStatus"] is None
            assert (c["previousWorkflowStatus"] is None) == (c["kind"] == "WORKFLOW_STARTED")
            moves.append((None, c["previousWorkflowStatus"], c["workflowStatus"]))
    return moves


# ---- commands ---------------------------------------------------------------------------------


async def test_start_creates_a_step_and_a_requested_document_per_required_document(gql) -> None:
    workflow = await _start(gql)
    assert workflow["status"] == "IN_PROGRESS"
    assert workflow["overdue"] is False
    assert workflow["subject"] == {"email": "alice@acme.example"}
    steps = [e["node"] for e in workflow["steps"]["edges"]]
    assert [s["documentKind"] for s in steps] == ["ID", "CONTRACT", "TAX_FORM"]
    assert {s["status"] for s in steps} == {"PENDING"}
    assert [s["document"]["kind"] for s in steps] == ["ID", "CONTRACT", "TAX_FORM"]
    assert {(s["document"]["status"], s["document"]["owner"]["email"]) for s in steps} == {
        ("REQUESTED", "alice@acme.example")
    }
    assert steps[-1]["dueOn"] == IN_30_DAYS


@pytest.mark.parametrize(
    "as_user, subject, due, code",
    [
        ("alice@acme.example", "alice@acme.example", IN_30_DAYS, "FORBIDDEN"),
        ("hr@globex.example", "alice@acme.example", IN_30_DAYS, "INVALID"),
        ("hr@acme.example", "alice@acme.example", "2000-01-01", "INVALID"),
    ],
    ids=["employee", "other-company", "past-due-date"],
)
async def test_start_refuses_with_a_typed_error_and_changes_nothing(gql, as_user, subject, due, code) -> None:
    async with gql.demo.container.engine.connect() as conn:
        before = (await conn.execute(sa.text("SELECT count(*) FROM documents"))).scalar_one()
    body = await gql(START, _start_input(gql.demo, subject, due=due), as_user=as_user)
    assert body["data"]["startWorkflow"]["code"] == code
    async with gql.demo.container.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM documents"))).scalar_one() == before
        assert (await conn.execute(sa.text("SELECT count(*) FROM workflow_steps"))).scalar_one() == 0
        assert (await conn.execute(sa.text("SELECT count(*) FROM events"))).scalar_one() == 0


async def test_steps_are_read_without_n_plus_one(gql) -> None:
    query = """{ workflows(first: 50) { edges { node { title overdue
        steps { edges { node { title status overdue document { status owner { email } } } } } } } } }"""
    await _start(gql)
    one = await gql(query, as_user="hr@acme.example")
    for subject in ("bob@acme.example", "alice@acme.example", "bob@acme.example"):
        await _start(gql, subject)
    four = await gql(query, as_user="hr@acme.example")
    steps = [s for e in four["data"]["workflows"]["edges"] for s in e["node"]["steps"]["edges"]]
    assert len(steps) == 12
    assert four["extensions"]["sql"]["statements"] == one["extensions"]["sql"]["statements"]


async def test_cancel_with_a_reason_and_never_twice(gql) -> None:
    workflow = await _start(gql)
    v = await _version(gql, workflow["id"])
    refused = await gql.data(CANCEL, {"id": workflow["id"], "reason": "x", "v": v}, as_user="alice@acme.example")
    assert refused["cancelWorkflow"]["code"] == "FORBIDDEN"
    hidden = await gql.data(CANCEL, {"id": workflow["id"], "reason": "x", "v": v}, as_user="hr@globex.example")
    assert hidden["cancelWorkflow"]["code"] == "NOT_FOUND"
    blank = await gql.data(CANCEL, {"id": workflow["id"], "reason": "  ", "v": v}, as_user="hr@acme.example")
    assert blank["cancelWorkflow"]["code"] == "INVALID"
    stale = await gql.data(CANCEL, {"id": workflow["id"], "reason": "late", "v": v - 1}, as_user="hr@acme.example")
    assert stale["cancelWorkflow"] == {"__typename": "ConflictError", "currentVersion": v, "code": "CONFLICT",
                                       "message": f"Workflow is at version {v}, not {v - 1}"}  # fmt: skip
    assert await _version(gql, workflow["id"]) == v
    cancel = {"id": workflow["id"], "reason": "hired elsewhere", "v": v}
    done = await gql.data(CANCEL, cancel, as_user="hr@acme.example")
    assert done["cancelWorkflow"]["workflow"] == {"status": "CANCELLED", "cancelReason": "hired elsewhere"}
    again = await gql.data(CANCEL, {"id": workflow["id"], "reason": "again", "v": v + 1}, as_user="hr@acme.example")
    assert again["cancelWorkflow"]["code"] == "INVALID_TRANSITION"


async def test_status_stays_out_of_the_generic_inputs(gql) -> None:
    body = await gql('{ __type(name: "UpdateWorkflowInput") { inputFields { name } } }', as_user="hr@acme.example")
    assert "status" not in {f["name"] for f in body["data"]["__type"]["inputFields"]}


# ---- the subscription ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_approvals_move_the_steps_and_the_last_completes_the_workflow(live_server, gql, protocol) -> None:
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    async with await _watch(live_server, demo, "hr@acme.example", protocol=protocol) as socket:
        workflow = await _start(gql)
        (started,) = await _changes(socket, 1)
        assert (started["kind"], started["previousWorkflowStatus"], started["workflowStatus"], started["step"]) == (
            "WORKFLOW_STARTED",
            None,
            "IN_PROGRESS",
            None,
        )
        assert started["workflow"]["id"] == workflow["id"]
        documents = await step_documents(demo.container, workflow["id"])
        for document in documents:
            await review(demo.container, hr, document, SUBMITTED)
        await review(demo.container, hr, documents[0], REJECTED)
        await review(demo.container, hr, documents[0], SUBMITTED)
        for document in documents:
            await review(demo.container, hr, document, APPROVED)
        changes = await _changes(socket, 3 + 2 + 3 + 1)
    assert _moves(changes) == [
        ("Identity document", "PENDING", "SUBMITTED"),
        ("Signed employment contract", "PENDING", "SUBMITTED"),
        ("Tax form", "PENDING", "SUBMITTED"),
        ("Identity document", "SUBMITTED", "PENDING"),
        ("Identity document", "PENDING", "SUBMITTED"),
        ("Identity document", "SUBMITTED", "DONE"),
        ("Signed employment contract", "SUBMITTED", "DONE"),
        ("Tax form", "SUBMITTED", "DONE"),
        (None, "IN_PROGRESS", "COMPLETED"),
    ]
    assert changes[-1]["workflow"]["status"] == "COMPLETED"
    ids = [int(c["eventId"]) for c in [started, *changes]]
    assert ids == sorted(set(ids))


async def test_replay_after_a_disconnect_in_order_without_duplicates(live_server, gql) -> None:
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    async with await _watch(live_server, demo, "hr@acme.example") as socket:
        workflow = await _start(gql)
        (started,) = await _changes(socket, 1)
    documents = await step_documents(demo.container, workflow["id"])
    for document in documents[:2]:  # while nobody listens
        await review(demo.container, hr, document, SUBMITTED)
    async with await _watch(live_server, demo, "hr@acme.example", w=workflow["id"], a=started["eventId"]) as socket:
        replayed = await _changes(socket, 2)
        await review(demo.container, hr, documents[2], SUBMITTED)
        (live,) = await _changes(socket, 1)
    assert _moves([*replayed, live]) == [
        ("Identity document", "PENDING", "SUBMITTED"),
        ("Signed employment contract", "PENDING", "SUBMITTED"),
        ("Tax form", "PENDING", "SUBMITTED"),
    ]
    ids = [int(started["eventId"])] + [int(c["eventId"]) for c in [*replayed, live]]
    assert ids == sorted(set(ids))


async def test_a_rolled_back_change_publishes_nothing(live_server, gql) -> None:
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    workflow = await _start(gql)
    documents = await step_documents(demo.container, workflow["id"])
    async with await _watch(live_server, demo, "hr@acme.example") as socket:
        with pytest.raises(RolledBack):
            await review(demo.container, hr, documents[0], SUBMITTED, roll_back=True)
        await review(demo.container, hr, documents[1], SUBMITTED)  # the marker: it must come first
        (first,) = await _changes(socket, 1)
    assert _moves([first]) == [("Signed employment contract", "PENDING", "SUBMITTED")]
    async with demo.container.engine.connect() as conn:
        statuses = await conn.execute(sa.text("SELECT status FROM workflow_steps ORDER BY position"))
        assert [r.status for r in statuses] == ["PENDING", "SUBMITTED", "PENDING"]


async def test_an_employee_receives_only_events_about_themselves(live_server, gql) -> None:
    demo = gql.demo
    async with await _watch(live_server, demo, "alice@acme.example") as alice:
        await _start(gql, "bob@acme.example")  # same company, another person
        await _start(gql, "carol@globex.example", as_user="hr@globex.example")  # another company
        mine = await _start(gql, "alice@acme.example")
        (first,) = await _changes(alice, 1)
    assert first["workflow"]["id"] == mine["id"]
    assert first["workflow"]["subject"] == {"email": "alice@acme.example"}


async def test_a_workflow_not_yours_cannot_be_watched(live_server, gql) -> None:
    demo = gql.demo
    bobs = await _start(gql, "bob@acme.example")
    for email in ("alice@acme.example", "hr@globex.example"):
        async with await _watch(live_server, demo, email, w=bobs["id"]) as socket:
            _, payload = await socket.next_payload()
        assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_restarted_listening_connection_loses_no_event(live_server, gql, database_url) -> None:
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    workflow = await _start(gql)
    documents = await step_documents(demo.container, workflow["id"])
    async with await _watch(live_server, demo, "hr@acme.example") as socket:
        async with demo.container.engine.connect() as conn:
            killed = await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
            assert killed.all(), "no listening connection to restart"
        for document in documents:  # committed while the listener is away
            await review(demo.container, hr, document, SUBMITTED)
        changes = await _changes(socket, 3)
    assert [c["step"]["status"] for c in changes] == ["SUBMITTED"] * 3
    assert [int(c["eventId"]) for c in changes] == sorted({int(c["eventId"]) for c in changes})


async def test_a_resume_older_than_the_retention_is_a_typed_error(live_server, gql, database_url) -> None:
    demo = gql.demo
    await _start(gql)
    first = await last_event_id(demo.container)
    await _start(gql, "bob@acme.example")
    dsn = sa.engine.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    feed = OutboxFeed(dsn, retention=dt.timedelta(0))
    await feed.start()
    try:
        assert await feed.prune() == 1  # the newest event is always kept
    finally:
        await feed.stop()
    async with await _watch(live_server, demo, "hr@acme.example", a=str(first - 1)) as socket:
        _, payload = await socket.next_payload()
    assert payload["errors"][0]["extensions"]["code"] == "EVENTS_EXPIRED"
    async with await _watch(live_server, demo, "hr@acme.example", a=str(first)) as socket:
        (kept,) = await _changes(socket, 1)  # resuming right after the pruned one is fine
    assert kept["workflow"]["subject"]["email"] == "bob@acme.example"


async def test_the_untyped_status_fields_still_answer_for_one_release_and_say_so(live_server, gql) -> None:
    demo = gql.demo
    hr = demo.principal("hr@acme.example")
    old = """subscription($a: ID) { workflowStatusChanged(afterEventId: $a) {
      kind previousStatus status workflowStatus previousWorkflowStatus previousStepStatus step { status } } }"""
    async with await Socket.open(live_server.url, demo.token("hr@acme.example")) as socket:
        await socket.acknowledged()
        await socket.start(old, {"a": str(await last_event_id(demo.container))})
        workflow = await _start(gql)
        documents = await step_documents(demo.container, workflow["id"])
        await review(demo.container, hr, documents[0], SUBMITTED)
        cancel = {"id": workflow["id"], "reason": "hired elsewhere", "v": await _version(gql, workflow["id"])}
        await gql.data(CANCEL, cancel, as_user="hr@acme.example")
        changes = await _changes(socket, 3)
    untyped = [(c["kind"], c["previousStatus"], c["status"]) for c in changes]
    assert untyped == [
        ("WORKFLOW_STARTED", None, "IN_PROGRESS"),
        ("STEP_STATUS_CHANGED", "PENDING", "SUBMITTED"),  # a step's status, in the same two fields
        ("WORKFLOW_STATUS_CHANGED", "IN_PROGRESS", "CANCELLED"),
    ]
    typed = [(c["previousWorkflowStatus"] or c["previousStepStatus"], (c["step"] or {}).get("status")) for c in changes]
    assert typed == [(None, None), ("PENDING", "SUBMITTED"), ("IN_PROGRESS", None)]
    assert [c["workflowStatus"] for c in changes] == ["IN_PROGRESS", "IN_PROGRESS", "CANCELLED"]
    fields = await gql.data(
        '{ __type(name: "WorkflowStatusEvent") { fields(includeDeprecated: true) { name isDeprecated } } }',
        as_user="hr@acme.example",
    )
    deprecated = {f["name"] for f in fields["__type"]["fields"] if f["isDeprecated"]}
    assert deprecated == {"previousStatus", "status"}


async def test_watchers_with_other_selections_or_viewers_get_their_own_answer(live_server, gql) -> None:
    """One execution is shared only between the same operation, variables and viewer."""
    demo = gql.demo
    after = str(await last_event_id(demo.container))
    plain = "subscription($a: ID) { workflowStatusChanged(afterEventId: $a) { workflowStatus } }"
    sockets = []
    watchers = [("hr@acme.example", WATCH), ("hr@acme.example", plain), ("admin@acme.example", WATCH)]
    watchers.append(("hr@acme.example", WATCH))  # shares the first one's (asynchronous) execution
    for email, query in watchers:
        socket = await Socket.open(live_server.url, demo.token(email))
        await socket.acknowledged()
        await socket.start(query, {"a": after})
        sockets.append(socket)
    await _start(gql)
    answers = []
    for socket in sockets:
        (change,) = await _changes(socket, 1)
        answers.append(change)
        await socket.close()
    assert answers[1] == {"workflowStatus": "IN_PROGRESS"}
    assert answers[0] == answers[2] == answers[3]  # HR and ADMIN may both see it: the same answer
    assert answers[0]["workflow"]["subject"] == {"email": "alice@acme.example"}


async def test_an_after_event_id_that_is_not_a_number_is_invalid(live_server, gql) -> None:
    async with await _watch(live_server, gql.demo, "hr@acme.example", a="not-a-number") as socket:
        _, payload = await socket.next_payload()
    assert payload["errors"][0]["extensions"]["code"] == "INVALID"


async def test_an_after_event_id_past_every_id_tells_nothing_of_other_companies(live_server, gql) -> None:
    """Ids count every company's events: refusing an id "no event has yet" let any user bisect
    the counter. Past the newest, an id now reads as the newest, whatever the counter."""
    demo = gql.demo
    await _start(gql, "carol@globex.example", as_user="hr@globex.example")  # events Acme cannot see
    newest = await last_event_id(demo.container)
    sockets = [
        await _watch(live_server, demo, "hr@acme.example", a=str(after))
        # (far past: an id the counter reaches before the socket subscribes is a real resume)
        for after in (newest, newest + 1000, 10**30)
    ]
    try:
        await _start(gql)
        answers = [await _changes(socket, 1) for socket in sockets]
    finally:
        for socket in sockets:
            await socket.close()
    assert all(answer == answers[0] for answer in answers), answers
    (change,) = answers[0]
    assert int(change["eventId"]) > newest and change["workflow"]["subject"] == {"email": "alice@acme.example"}

"""Templates a company defines, steps of three kinds and one inbox, through the real app
(issue 17): HR defines and publishes a template with a document, a task for IT, a two-level
approval (manager, then HR) after the task; starts it for Alice; the approval cannot open
before the task is done; the manager approves; HR's delegate approves on HR's behalf; the
inboxes and the subscriptions show each move in order; editing the template afterwards
leaves the running workflow as it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from domains.kernel.ids import from_global_id, to_global_id
from tests.api.reviews import APPROVED, SUBMITTED, last_event_id, review
from tests.api.test_workflows import _changes, _watch
from tests.api.ws import Socket

HR, ALICE, BOB = "hr@acme.example", "alice@acme.example", "bob@acme.example"
IVAN, MIA = "ivan@acme.example", "mia@acme.example"
TODAY = dt.date.today()
IN_30_DAYS = (TODAY + dt.timedelta(days=30)).isoformat()

ERRORS = "... on ValidationError { code fields { path message } } ... on Error { code message }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  __typename ... on UserPayload { user { id } } ... on Error { code message } } }"""
UPDATE_USER = """mutation($id: ID!, $input: UpdateUserInput!, $v: Int!) {
  updateUser(id: $id, input: $input, expectedVersion: $v) { __typename ... on Error { code message } } }"""
CREATE_TEMPLATE = """mutation($input: CreateWorkflowTemplateInput!) { createWorkflowTemplate(input: $input) {
  __typename ... on WorkflowTemplatePayload { workflowTemplate { id version status } }
  ... on Error { code message } } }"""
CREATE_STEP = """mutation($input: CreateWorkflowTemplateStepInput!) { createWorkflowTemplateStep(input: $input) {
  __typename ... on WorkflowTemplateStepPayload { workflowTemplateStep { id version } }
  ... on Error { code message } } }"""
UPDATE_STEP = """mutation($id: ID!, $input: UpdateWorkflowTemplateStepInput!, $v: Int!) {
  updateWorkflowTemplateStep(id: $id, input: $input, expectedVersion: $v) {
  __typename ... on WorkflowTemplateStepPayload { workflowTemplateStep { version } }
  ... on Error { code message } } }"""
PUBLISH = (
    """mutation($id: ID!, $v: Int!) { publishWorkflowTemplate(id: $id, expectedVersion: $v) {
  __typename ... on WorkflowTemplatePayload { workflowTemplate { version status publishedVersion
    versions { edges { node { number } } } } } """
    + ERRORS
    + " } }"
)
START = (
    """mutation($input: StartWorkflowInput!) { startWorkflow(input: $input) {
  __typename ... on WorkflowPayload { workflow { id status templateVersion { number }
    steps { edges { node { id version key kind title status assigneeId } } } } } """
    + ERRORS
    + " } }"
)
COMPLETE = (
    """mutation($id: ID!, $note: String!, $v: Int!) { completeTask(stepId: $id, note: $note, expectedVersion: $v) {
  __typename ... on WorkflowStepPayload { workflowStep { status note version } } """
    + ERRORS
    + " } }"
)
APPROVE = (
    """mutation($id: ID!, $v: Int!) { approveStep(stepId: $id, expectedVersion: $v) {
  __typename ... on WorkflowStepPayload { workflowStep { status level version } } """
    + ERRORS
    + " } }"
)
INBOX = """query($first: Int, $after: String, $filter: MyTasksFilter) {
  myTasks(first: $first, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { stepId version kind status title dueOn workflowTitle subjectName level onBehalfOfId } } } }"""
INBOX_WATCH = (
    """subscription($a: ID) { myTasksChanged(afterEventId: $a) { eventId stepId kind status level waitsOnYou } }"""
)
STEPS = """query($id: ID!) { workflow(id: $id) { status templateVersion { number }
  steps { edges { node { key kind title status level } } } } }"""


def gid(kind: str, id: Any) -> str:
    return to_global_id(kind, id)


async def _user(gql, email: str, name: str) -> str:
    data = await gql.data(CREATE_USER, {"input": {"email": email, "fullName": name, "role": "EMPLOYEE"}}, as_user=HR)
    assert data["createUser"]["__typename"] == "UserPayload", data
    created = str(data["createUser"]["user"]["id"])
    hr = gql.demo.users[HR]  # a token for the new person, like the seeded ones have
    gql.demo.users[email] = {"id": from_global_id(created)[1], "company_id": hr["company_id"], "role": "EMPLOYEE"}
    return created


async def _people(gql) -> dict[str, str]:
    """Ivan (IT) and Mia (Alice's manager) join Acme; HR delegates to Bob for this week."""
    demo = gql.demo
    ivan = await _user(gql, IVAN, "Ivan Torres")
    mia = await _user(gql, MIA, "Mia Becker")
    alice = gid("User", demo.id(ALICE))
    found = await gql.data("query($id: ID!) { user(id: $id) { version } }", {"id": alice}, as_user=HR)
    done = await gql.data(
        UPDATE_USER, {"id": alice, "input": {"managerId": mia}, "v": found["user"]["version"]}, as_user=HR
    )
    assert done["updateUser"]["__typename"] == "UserPayload", done
    delegation = await gql.data(
        """mutation($input: CreateApprovalDelegationInput!) { createApprovalDelegation(input: $input) {
          __typename ... on Error { code message } } }""",
        {
            "input": {
                "delegatorId": gid("User", demo.id(HR)),
                "delegateId": gid("User", demo.id(BOB)),
                "startsOn": (TODAY - dt.timedelta(days=1)).isoformat(),
                "endsOn": (TODAY + dt.timedelta(days=6)).isoformat(),
            }
        },
        as_user=HR,
    )
    assert delegation["createApprovalDelegation"]["__typename"] == "ApprovalDelegationPayload", delegation
    return {"ivan": ivan, "mia": mia}


async def _template(gql, ivan: str) -> tuple[str, dict[str, dict[str, Any]]]:
    data = await gql.data(CREATE_TEMPLATE, {"input": {"title": "Berlin onboarding", "kind": "ONBOARDING"}}, as_user=HR)
    template = data["createWorkflowTemplate"]["workflowTemplate"]
    assert template["status"] == "DRAFT"
    steps: dict[str, dict[str, Any]] = {}
    for position, fields in enumerate(
        [
            {"key": "contract", "title": "Signed contract", "kind": "DOCUMENT", "documentKind": "CONTRACT",
             "dueFrom": "DUE", "dueOffsetDays": -7},
            {"key": "laptop", "title": "Prepare the laptop", "kind": "TASK", "assignee": f"USER:{ivan}",
             "dueFrom": "START", "dueOffsetDays": 3},
            {"key": "start-date", "title": "Approve the start date", "kind": "APPROVAL",
             "approvers": "MANAGER,HR", "dependsOn": "laptop,nowhere", "dueFrom": "START", "dueOffsetDays": 5},
        ]
    ):  # fmt: skip
        created = await gql.data(
            CREATE_STEP, {"input": {"templateId": template["id"], "position": position, **fields}}, as_user=HR
        )
        assert created["createWorkflowTemplateStep"]["__typename"] == "WorkflowTemplateStepPayload", created
        steps[fields["key"]] = created["createWorkflowTemplateStep"]["workflowTemplateStep"]
    return template["id"], steps


async def _inbox(gql, email: str, **filter: Any) -> dict[str, Any]:
    variables: dict[str, Any] = {"first": 10}
    if filter:
        variables["filter"] = filter
    data = await gql.data(INBOX, variables, as_user=email)
    return dict(data["myTasks"])


def _titles(inbox: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["node"]["kind"], e["node"]["title"]) for e in inbox["edges"]]


async def _inbox_watch(live_server, demo, email: str, after: str) -> Socket:
    socket = await Socket.open(live_server.url, demo.token(email))
    await socket.acknowledged()
    await socket.start(INBOX_WATCH, {"a": after})
    return socket


async def _inbox_changes(socket: Socket, count: int) -> list[tuple[str, str, int, bool]]:
    found = []
    while len(found) < count:
        _, payload = await socket.next_payload()
        assert not payload.get("errors"), payload
        c = payload["data"]["myTasksChanged"]
        found.append((c["kind"], c["status"], c["level"], c["waitsOnYou"]))
    return found


async def test_publishing_names_each_broken_step_and_changes_nothing(gql) -> None:
    people = await _people(gql)
    template_id, steps = await _template(gql, people["ivan"])
    bad = await gql.data(
        UPDATE_STEP,
        {"id": steps["contract"]["id"], "input": {"documentKind": "LAPTOP"}, "v": steps["contract"]["version"]},
        as_user=HR,
    )
    assert bad["updateWorkflowTemplateStep"]["__typename"] == "WorkflowTemplateStepPayload"
    answer = await gql.data(PUBLISH, {"id": template_id, "v": 1}, as_user=HR)
    refused = answer["publishWorkflowTemplate"]
    assert refused["code"] == "INVALID"
    assert {tuple(f["path"]) for f in refused["fields"]} == {
        ("steps", "contract", "documentKind"),
        ("steps", "start-date", "dependsOn"),
    }
    async with gql.demo.container.engine.connect() as conn:
        count = "SELECT count(*) FROM workflow_template_versions v JOIN workflow_templates t ON t.id = v.template_id"
        assert (await conn.execute(sa.text(count + " WHERE t.code IS NULL"))).scalar_one() == 0
    employee = await gql(PUBLISH, {"id": template_id, "v": 1}, as_user=ALICE)
    assert employee["data"]["publishWorkflowTemplate"]["code"] in ("NOT_FOUND", "FORBIDDEN")


async def test_a_defined_workflow_from_start_to_the_delegates_approval(live_server, gql) -> None:
    demo = gql.demo
    people = await _people(gql)
    template_id, steps = await _template(gql, people["ivan"])
    fixed = await gql.data(
        UPDATE_STEP,
        {"id": steps["start-date"]["id"], "input": {"dependsOn": "laptop"}, "v": steps["start-date"]["version"]},
        as_user=HR,
    )
    assert fixed["updateWorkflowTemplateStep"]["__typename"] == "WorkflowTemplateStepPayload"
    published = (await gql.data(PUBLISH, {"id": template_id, "v": 1}, as_user=HR))["publishWorkflowTemplate"][
        "workflowTemplate"
    ]
    assert (published.get("status"), published.get("publishedVersion")) == ("PUBLISHED", 1), published

    after = str(await last_event_id(demo.container))
    alice_watch = await _watch(live_server, demo, ALICE, a=after)
    mia_inbox = await _inbox_watch(live_server, demo, MIA, after)
    bob_inbox = await _inbox_watch(live_server, demo, BOB, after)
    async with alice_watch, mia_inbox, bob_inbox:
        start = {"templateId": template_id, "subjectUserId": gid("User", demo.id(ALICE)), "dueDate": IN_30_DAYS}
        started = (await gql.data(START, {"input": start}, as_user=HR))["startWorkflow"]
        assert started["__typename"] == "WorkflowPayload", started
        workflow = started["workflow"]
        assert workflow["templateVersion"] == {"number": 1}
        by_key = {e["node"]["key"]: e["node"] for e in workflow["steps"]["edges"]}
        assert {k: (s["kind"], s["status"]) for k, s in by_key.items()} == {
            "contract": ("DOCUMENT", "PENDING"),
            "laptop": ("TASK", "PENDING"),
            "start-date": ("APPROVAL", "WAITING"),
        }
        assert by_key["laptop"]["assigneeId"] == people["ivan"]

        # The inboxes: Alice hands in her contract, Ivan prepares the laptop, nobody approves yet.
        assert _titles(await _inbox(gql, ALICE)) == [("DOCUMENT", "Signed contract")]
        ivan_inbox = await _inbox(gql, IVAN)
        assert _titles(ivan_inbox) == [("TASK", "Prepare the laptop")]
        assert ivan_inbox["edges"][0]["node"]["subjectName"] == "Alice Martin"
        assert (await _inbox(gql, MIA))["totalCount"] == 0
        company = await _inbox(gql, HR, company=True)
        assert company["totalCount"] == 2
        assert [e["node"]["dueOn"] for e in company["edges"]] == sorted(e["node"]["dueOn"] for e in company["edges"])
        assert (await _inbox(gql, HR, personId=gid("User", demo.id(ALICE))))["totalCount"] == 1
        assert (await gql(INBOX, {"filter": {"company": True}}, as_user=ALICE))["data"] is None

        # The approval cannot open (nor be decided) before the task is done.
        approval = by_key["start-date"]
        early = (await gql.data(APPROVE, {"id": approval["id"], "v": approval["version"]}, as_user=MIA))["approveStep"]
        assert early["code"] == "INVALID", early
        someone_else = await gql.data(COMPLETE, {"id": by_key["laptop"]["id"], "note": "done", "v": 1}, as_user=BOB)
        assert someone_else["completeTask"]["code"] == "FORBIDDEN"
        done = await gql.data(
            COMPLETE, {"id": by_key["laptop"]["id"], "note": "ThinkPad, serial 42", "v": 1}, as_user=IVAN
        )
        assert done["completeTask"]["workflowStep"]["status"] == "DONE", done
        assert (await _inbox(gql, IVAN))["totalCount"] == 0

        # The manager decides first, then HR (here, HR's delegate Bob, on HR's behalf).
        mia_tasks = await _inbox(gql, MIA)
        assert _titles(mia_tasks) == [("APPROVAL", "Approve the start date")]
        node = mia_tasks["edges"][0]["node"]
        assert (await _inbox(gql, BOB))["totalCount"] == 0
        first = (await gql.data(APPROVE, {"id": node["stepId"], "v": node["version"]}, as_user=MIA))["approveStep"]
        assert (first["workflowStep"]["status"], first["workflowStep"]["level"]) == ("PENDING", 1), first
        again = await gql.data(APPROVE, {"id": node["stepId"], "v": first["workflowStep"]["version"]}, as_user=MIA)
        assert again["approveStep"]["code"] == "FORBIDDEN"
        assert (await _inbox(gql, MIA))["totalCount"] == 0
        bob_tasks = await _inbox(gql, BOB)
        assert _titles(bob_tasks) == [("APPROVAL", "Approve the start date")]
        assert bob_tasks["edges"][0]["node"]["onBehalfOfId"] == gid("User", demo.id(HR))
        alice_cannot = await gql.data(
            APPROVE, {"id": node["stepId"], "v": first["workflowStep"]["version"]}, as_user=ALICE
        )
        assert alice_cannot["approveStep"]["code"] == "FORBIDDEN"
        second = await gql.data(APPROVE, {"id": node["stepId"], "v": first["workflowStep"]["version"]}, as_user=BOB)
        assert second["approveStep"]["workflowStep"]["status"] == "DONE", second
        decisions = await gql.data(
            """{ workflowDecisions(orderBy: [{ level: ASC }]) { edges { node { level approved
                 decider { email } onBehalfOf } } } }""",
            as_user=HR,
        )
        assert [
            (d["node"]["level"], d["node"]["approved"], d["node"]["decider"]["email"], d["node"]["onBehalfOf"])
            for d in decisions["workflowDecisions"]["edges"]
        ] == [(0, True, MIA, None), (1, True, BOB, gid("User", demo.id(HR)))]

        # Alice's contract is the last step: its approval completes the workflow.
        hr = demo.principal(HR)
        document = await gql.data(
            "query($id: ID!) { workflowStep(id: $id) { documentId } }", {"id": by_key["contract"]["id"]}, as_user=HR
        )
        document_id = from_global_id(document["workflowStep"]["documentId"])[1]
        await review(demo.container, hr, document_id, SUBMITTED)
        await review(demo.container, hr, document_id, APPROVED)

        changes = await _changes(alice_watch, 7)
        mia_moves = await _inbox_changes(mia_inbox, 2)
        bob_moves = await _inbox_changes(bob_inbox, 2)

    assert [
        (c["kind"], c["step"]["title"] if c["step"] else None, c["previousStepStatus"] or c["previousWorkflowStatus"],
         c["step"]["status"] if c["step"] else c["workflowStatus"])
        for c in changes
    ] == [
        ("WORKFLOW_STARTED", None, None, "IN_PROGRESS"),
        ("STEP_STATUS_CHANGED", "Prepare the laptop", "PENDING", "DONE"),
        ("STEP_STATUS_CHANGED", "Approve the start date", "WAITING", "PENDING"),
        ("STEP_STATUS_CHANGED", "Approve the start date", "PENDING", "PENDING"),
        ("STEP_STATUS_CHANGED", "Approve the start date", "PENDING", "DONE"),
        ("STEP_STATUS_CHANGED", "Signed contract", "PENDING", "SUBMITTED"),
        ("STEP_STATUS_CHANGED", "Signed contract", "SUBMITTED", "DONE"),
    ]  # fmt: skip
    # Mia's inbox: the approval arrives, then leaves for HR; Bob's (HR's delegate): arrives, then done.
    assert mia_moves == [("APPROVAL", "PENDING", 0, True), ("APPROVAL", "PENDING", 1, False)]
    assert bob_moves == [("APPROVAL", "PENDING", 1, True), ("APPROVAL", "DONE", 1, False)]
    ended = await gql.data(STEPS, {"id": workflow["id"]}, as_user=HR)
    assert ended["workflow"]["status"] == "COMPLETED"


async def test_editing_the_template_later_leaves_the_running_workflow_as_it_was(gql) -> None:
    demo = gql.demo
    people = await _people(gql)
    template_id, steps = await _template(gql, people["ivan"])
    await gql.data(
        UPDATE_STEP,
        {"id": steps["start-date"]["id"], "input": {"dependsOn": "laptop"}, "v": steps["start-date"]["version"]},
        as_user=HR,
    )
    await gql.data(PUBLISH, {"id": template_id, "v": 1}, as_user=HR)
    start = {"templateId": template_id, "subjectUserId": gid("User", demo.id(ALICE)), "dueDate": IN_30_DAYS}
    workflow = (await gql.data(START, {"input": start}, as_user=HR))["startWorkflow"]["workflow"]
    before = await gql.data(STEPS, {"id": workflow["id"]}, as_user=HR)

    renamed = await gql.data(
        UPDATE_STEP, {"id": steps["laptop"]["id"], "input": {"title": "Order a phone", "assignee": "HR"}, "v": 1},
        as_user=HR,
    )  # fmt: skip
    assert renamed["updateWorkflowTemplateStep"]["__typename"] == "WorkflowTemplateStepPayload", renamed
    again = (await gql.data(PUBLISH, {"id": template_id, "v": 2}, as_user=HR))["publishWorkflowTemplate"][
        "workflowTemplate"
    ]
    assert again["publishedVersion"] == 2
    assert [e["node"]["number"] for e in again["versions"]["edges"]] == [2, 1]

    assert await gql.data(STEPS, {"id": workflow["id"]}, as_user=HR) == before
    assert before["workflow"]["templateVersion"] == {"number": 1}
    later = await gql.data(START, {"input": {**start, "subjectUserId": gid("User", demo.id(BOB))}}, as_user=HR)
    later_steps = {e["node"]["key"]: e["node"] for e in later["startWorkflow"]["workflow"]["steps"]["edges"]}
    assert later_steps["laptop"]["title"] == "Order a phone"
    assert later["startWorkflow"]["workflow"]["templateVersion"] == {"number": 2}

    archived = await gql.data(
        """mutation($id: ID!, $v: Int!) { archiveWorkflowTemplate(id: $id, expectedVersion: $v) {
          __typename ... on WorkflowTemplatePayload { workflowTemplate { status } } } }""",
        {"id": template_id, "v": 3},
        as_user=HR,
    )
    assert archived["archiveWorkflowTemplate"]["workflowTemplate"]["status"] == "ARCHIVED"
    refused = (await gql.data(START, {"input": start}, as_user=HR))["startWorkflow"]
    assert refused["code"] == "INVALID"
    assert (await gql.data(STEPS, {"id": workflow["id"]}, as_user=HR)) == before


async def test_the_built_in_templates_are_seeded_data(gql) -> None:
    data = await gql.data(
        """{ workflowTemplates(orderBy: [{ code: ASC }]) { edges { node { code status publishedVersion
             steps { edges { node { key kind documentKind } } } } } } }""",
        as_user=HR,
    )
    templates = [e["node"] for e in data["workflowTemplates"]["edges"]]
    assert [(t["code"], t["status"], t["publishedVersion"]) for t in templates] == [
        ("EMPLOYEE_ONBOARDING", "PUBLISHED", 1),
        ("OFFBOARDING", "PUBLISHED", 1),
    ]
    assert [s["node"]["documentKind"] for s in templates[0]["steps"]["edges"]] == ["ID", "CONTRACT", "TAX_FORM"]
    others = await gql.data("{ workflowTemplates { totalCount } }", as_user="hr@globex.example")
    assert others["workflowTemplates"]["totalCount"] == 2


TEMPLATE_READ = """{ workflowTemplates(orderBy: [{ code: ASC }]) { totalCount edges { node { code title status
  steps(first: 5) { totalCount edges { node { key kind documentKind dueOffsetDays } } }
  versions { edges { node { number title } } } } } } }"""


async def test_the_templates_generated_reads_are_compiled_into_one_statement(gql, resolver_gql) -> None:
    ours = await gql(TEMPLATE_READ, as_user=HR)
    theirs = await resolver_gql(TEMPLATE_READ, as_user=HR)
    assert ours["data"] == theirs["data"] and ours["data"]["workflowTemplates"]["totalCount"] == 2
    assert ours["extensions"]["sql"]["statements"] == 1
    # the resolver path: the user, the page, its count, then one batch per relation (and its count)
    assert theirs["extensions"]["sql"]["statements"] == 6


async def test_the_inbox_reads_a_fixed_number_of_statements_however_many_tasks(gql) -> None:
    """myTasks is hand-written (across workflows, with delegations): the resolver path answers it,
    deliberately. The user; the delegations (and their people's roles when there are some); the
    page; its count; the page's workflows; its subjects' names."""
    demo = gql.demo
    await _people(gql)  # HR delegates to Bob
    onboarding = '{ workflowTemplates(filter: { code: { eq: "EMPLOYEE_ONBOARDING" } }) { edges { node { id } } } }'
    template = (await gql.data(onboarding, as_user=HR))["workflowTemplates"]["edges"][0]["node"]["id"]
    counts = []
    for subject in (ALICE, BOB):
        start = {"templateId": template, "subjectUserId": gid("User", demo.id(subject)), "dueDate": IN_30_DAYS}
        assert (await gql.data(START, {"input": start}, as_user=HR))["startWorkflow"]["__typename"] == "WorkflowPayload"
        mine = await gql(INBOX, {"first": 10}, as_user=ALICE)
        company = await gql(INBOX, {"first": 10, "filter": {"company": True}}, as_user=HR)
        delegated = await gql(INBOX, {"first": 10}, as_user=BOB)
        counts.append(
            (
                mine["data"]["myTasks"]["totalCount"],
                company["data"]["myTasks"]["totalCount"],
                mine["extensions"]["sql"]["statements"],
                company["extensions"]["sql"]["statements"],
                delegated["extensions"]["sql"]["statements"],
            )
        )
    # Alice: user, delegations, page, count, workflows, names; HR's company view: no delegations;
    # Bob's: user, delegations, their people's roles, page, count (and, once his own workflow
    # started, its workflows and names): the same however many tasks there are
    assert counts == [(3, 3, 6, 5, 5), (3, 6, 6, 5, 7)]
    paged = await gql.data(INBOX, {"first": 4, "filter": {"company": True}}, as_user=HR)
    rest = await gql.data(
        INBOX, {"first": 4, "after": paged["myTasks"]["pageInfo"]["endCursor"], "filter": {"company": True}}, as_user=HR
    )
    due = [e["node"]["dueOn"] for e in [*paged["myTasks"]["edges"], *rest["myTasks"]["edges"]]]
    assert len(due) == 6 and due == sorted(due) and not rest["myTasks"]["pageInfo"]["hasNextPage"]

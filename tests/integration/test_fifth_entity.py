"""Adding an entity is a declaration plus a table: the factory derives the rest.

The Training entity below exists only in this test. Its table is created from the derived
metadata (what the migration would hold) and dropped again; everything else, from the
GraphQL types to tenancy and the loaders, comes from the declaration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from adapters.sql import rls
from adapters.sql.tables import build_tables
from app.http import create_app
from domains.company.spec import COMPANY
from domains.document.spec import DOCUMENT
from domains.kernel.access import without_application_scope
from domains.kernel.entity import (
    Access,
    Entity,
    EntitySpec,
    Reach,
    Registry,
    belongs_to,
    day,
    has_many,
    integer,
    reference,
    string,
)
from domains.kernel.ids import to_global_id
from domains.kernel.principal import Role
from domains.privacy.spec import ERASURE_REQUEST, PERSON_DATA_EXPORT
from domains.user.spec import USER
from domains.workflow.spec import SPECS as WORKFLOW_SPECS
from schema.root import build_schema


@dataclass(kw_only=True)
class Training(Entity):
    company_id: uuid.UUID
    user_id: uuid.UUID
    title: str
    hours: int = 1
    due_on: dt.date | None = None


TRAINING = EntitySpec(
    name="Training",
    plural="trainings",
    model=Training,
    table="trainings",
    owner_field="user_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("user_id", "User", required=True),
        string("title", required=True, max_length=200, sortable=True),
        integer("hours", minimum=1, maximum=40, sortable=True),
        day("due_on", sortable=True),
    ),
    relations=(belongs_to("user", "User", "user_id"),),
    access=Access(
        read={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
)


async def test_a_fifth_entity_from_its_declaration_alone(container, demo) -> None:
    user = dataclasses.replace(USER, relations=(*USER.relations, has_many("trainings", "Training", "user_id")))
    registry = Registry([COMPANY, user, DOCUMENT, *WORKFLOW_SPECS, ERASURE_REQUEST, PERSON_DATA_EXPORT, TRAINING])
    tables = build_tables(registry)
    extended = dataclasses.replace(container, registry=registry, tables=tables, schema=build_schema(registry))
    sdl = str(extended.schema)
    for derived in (
        "trainings(filter: TrainingFilter",
        "createTraining(input: CreateTrainingInput!)",
        "input TrainingOrder",
        "type TrainingConnection",
        "union TrainingResult",
    ):
        assert derived in sdl

    # Its migration: the table, and the policies derived from the declaration (no SQL by hand).
    (wall,) = [w for w in rls.company_scoped(registry, tables["Training"].metadata) if w.table == "trainings"]
    assert (wall.column, wall.parent) == ("company_id", None)
    async with container.engine.begin() as conn:
        await conn.run_sync(lambda sync: tables["Training"].create(sync))
        for statement in rls.policy_statements(wall):
            await conn.execute(sa.text(statement))
    try:
        transport = httpx.ASGITransport(app=create_app(extended))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def gql(query: str, as_user: str, **variables: object) -> dict:
                headers = {"Authorization": f"Bearer {demo.token(as_user)}"}
                body = (
                    await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                ).json()
                assert not body.get("errors"), body
                return body

            create = """mutation($user: ID!, $hours: Int!) {
              createTraining(input: {userId: $user, title: "Fire safety", hours: $hours}) {
                __typename ... on TrainingPayload { training { title hours user { email } } }
                ... on ValidationError { fields { path message } } } }"""
            alice = to_global_id("User", demo.id("alice@acme.example"))
            made = await gql(create, "hr@acme.example", user=alice, hours=4)
            assert made["data"]["createTraining"] == {
                "__typename": "TrainingPayload",
                "training": {"title": "Fire safety", "hours": 4, "user": {"email": "alice@acme.example"}},
            }
            too_long = await gql(create, "hr@acme.example", user=alice, hours=41)
            assert too_long["data"]["createTraining"]["fields"] == [
                {"path": ["hours"], "message": "must be at most 40"}
            ]

            mine = """{ me { trainings { totalCount edges { node { title } } } }
              trainings(filter: {hours: {gte: 2}}) { totalCount } }"""
            assert (await gql(mine, "alice@acme.example"))["data"] == {
                "me": {"trainings": {"totalCount": 1, "edges": [{"node": {"title": "Fire safety"}}]}},
                "trainings": {"totalCount": 1},
            }
            assert (await gql(mine, "bob@acme.example"))["data"]["trainings"] == {"totalCount": 0}
            assert (await gql(mine, "hr@globex.example"))["data"]["trainings"] == {"totalCount": 0}
            with without_application_scope():  # the database's wall alone keeps Acme's training away
                walled = await gql("{ trainings { totalCount } }", "hr@globex.example")
                assert walled["data"]["trainings"] == {"totalCount": 0}
    finally:
        async with container.engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE trainings"))

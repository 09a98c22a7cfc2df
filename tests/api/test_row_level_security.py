"""The database's wall, through the real app: with the application's tenant scope switched off
(test only), Globex's HR still reads no Acme row, on the compiled path and the resolver path."""

from __future__ import annotations

from domains.kernel.access import without_application_scope
from tests.conftest import GraphQLClient

DOCUMENTS = "query Wall%s { documents(first: 50) { totalCount edges { node { title owner { email } } } } }"
PEOPLE = "query People%s { users(first: 50) { edges { node { email company { name } } } } }"


async def _read(client: GraphQLClient, query: str) -> dict[str, object]:
    return await client.data(query, as_user="hr@globex.example")


async def test_globex_reads_no_acme_row_without_the_applications_scope(
    gql: GraphQLClient, resolver_gql: GraphQLClient
) -> None:
    for name, client in (("Compiled", gql), ("Resolvers", resolver_gql)):
        with without_application_scope():
            documents = await _read(client, DOCUMENTS % name)
            people = await _read(client, PEOPLE % name)
        titles = sorted(e["node"]["title"] for e in documents["documents"]["edges"])  # type: ignore[index]
        assert titles == ["Employment contract", "First-aid certificate"], name
        assert documents["documents"]["totalCount"] == 2, name  # type: ignore[index]
        emails = {e["node"]["email"] for e in people["users"]["edges"]}  # type: ignore[index]
        assert emails and all(email.endswith("@globex.example") for email in emails), (name, emails)
        assert {e["node"]["company"]["name"] for e in people["users"]["edges"]} == {"Globex"}  # type: ignore[index]


async def test_an_admin_still_reads_every_company(gql: GraphQLClient) -> None:
    data = await gql.data(DOCUMENTS % "Admin", as_user="admin@acme.example")
    owners = {e["node"]["owner"]["email"].split("@")[1] for e in data["documents"]["edges"]}
    assert owners == {"acme.example", "globex.example"}

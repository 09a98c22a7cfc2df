"""The README is true: its operations run as pasted, and it links nothing outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _graphql_block() -> str:
    # the block under "Some queries to paste into GraphiQL" (later sections show others)
    block = re.findall(r"```graphql\n(.*?)```", README, flags=re.DOTALL)[0]
    return block


async def test_the_pasted_block_runs_operation_by_operation(gql: GraphQLClient) -> None:
    """GraphiQL sends the whole editor with the chosen operationName, as this does."""
    document = _graphql_block()
    names = re.findall(r"^(?:query|mutation) (\w+)", document, flags=re.MULTILINE)
    assert names == ["DocumentsToHandIn", "CompaniesAndTheirPeople", "RenameDocument"]

    async def run(name: str, variables: dict | None = None) -> dict:
        token = gql.demo.token("hr@acme.example")
        response = await gql.http.post(
            "/graphql",
            json={"query": document, "operationName": name, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]

    documents = (await run("DocumentsToHandIn"))["documents"]
    assert documents["totalCount"] >= 1
    first = documents["edges"][0]["node"]
    assert first["owner"]["fullName"] == "Alice Martin"

    companies = (await run("CompaniesAndTheirPeople"))["companies"]["edges"]
    assert [c["node"]["name"] for c in companies] == ["Acme Corp"]

    renamed = (await run("RenameDocument", {"id": first["id"], "version": first["version"]}))["updateDocument"]
    assert renamed == {
        "__typename": "DocumentPayload",
        "document": {
            "title": "Employment contract (signed)",
            "note": "Signed on paper",
            "version": first["version"] + 1,
        },
    }


def test_links_stay_inside_the_repository() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)|`(\.\./[^`]+)`", README):
        path = next(t for t in target if t)
        if path.startswith(("http://", "https://")):
            continue
        assert not path.startswith(".."), path
        assert (ROOT / path).exists(), path
    assert "docs/ARCHITECTURE.md" in README and (ROOT / "docs" / "ARCHITECTURE.md").exists()


def test_every_custom_scalar_is_specified_mapped_and_documented() -> None:
    """A frontend's codegen needs each custom scalar's mapping: the SDL names its specification,
    graphql.config.yml maps it, and the README's table shows it."""
    import yaml

    sdl = (ROOT / "schema.graphql").read_text()
    scalars = dict(re.findall(r"^scalar (\w+)(.*)$", sdl, flags=re.MULTILINE))
    assert {"Date", "DateTime"} <= set(scalars)
    config = yaml.safe_load((ROOT / "graphql.config.yml").read_text())
    (generated,) = config["extensions"]["codegen"]["generates"].values()
    mapped = generated["config"]["scalars"]
    table = README[README.index("## Codegen and scalars") :]
    for name, directives in scalars.items():
        assert "@specifiedBy(url: " in directives, name
        assert mapped.get(name) == "string", name
        assert f"| `{name}` |" in table, name

"""PostGraphile's queries for the bench's workloads, and how its answers map onto the project's
shape: what bench/load.py sends to the peer and bench/peer.py compares."""

from __future__ import annotations

import uuid
from typing import Any

from domains.kernel.ids import to_global_id

# PostGraphile's names for the project's queries (bench/load.py QUERIES): allX connections with
# nodes, relations named after their foreign keys, the row's own uuid as ``id``. The project scopes
# every read to the caller's company and to rows not deleted; the peer is told so in each query.
PEER_W1 = (
    "query W1($company: UUID!) { allDocuments(first: 100, orderBy: [CREATED_AT_DESC, ID_DESC],"
    " condition: {companyId: $company, deletedAt: null}) { nodes { id title status"
    " userByOwnerId { id email companyByCompanyId { id name } } } } }"
)
PEER_W2 = "query W2($id: UUID!) { documentById(id: $id) { id title userByOwnerId { email } } }"
PEER_W3 = (
    "query W3($company: UUID!) { allCompanies(orderBy: [NAME_ASC, ID_ASC], condition: {id: $company, deletedAt: null})"
    " { totalCount nodes { name usersByCompanyId(first: 20, orderBy: [FULL_NAME_ASC, ID_ASC],"
    " condition: {deletedAt: null}) { totalCount nodes { email"
    " documentsByOwnerId(first: 5, orderBy: [CREATED_AT_DESC, ID_DESC],"
    " condition: {deletedAt: null}) { totalCount nodes { title } } } } } } }"
)
PEER_W4 = (
    "query W4($company: UUID!) { allDocuments(first: 50, orderBy: [DUE_ON_ASC, TITLE_ASC, ID_ASC],"
    ' filter: {companyId: {equalTo: $company}, deletedAt: {isNull: true}, status: {in: ["REQUESTED", "UPLOADED"]},'
    ' userByOwnerId: {email: {includesInsensitive: "a"}}}) { totalCount pageInfo { hasNextPage }'
    " nodes { id title status dueOn } } }"
)
# No version check in PostGraphile's update: the peer writes the next version itself (the
# project checks the expected version, the tenant and the token's user in its statements).
PEER_W5 = (
    "mutation W5($id: UUID!, $note: String!, $version: Int!) { updateDocumentById(input: {id: $id,"
    " documentPatch: {note: $note, version: $version}}) { document { id version note } } }"
)
PEER_QUERIES = {"W1": PEER_W1, "W2": PEER_W2, "W3": PEER_W3, "W4": PEER_W4, "W5": PEER_W5}


def _gid(type_name: str, value: str) -> str:
    return to_global_id(type_name, uuid.UUID(value))


def _w1(data: dict[str, Any]) -> dict[str, Any]:
    edges = []
    for node in data["allDocuments"]["nodes"]:
        owner = node["userByOwnerId"]
        company = owner["companyByCompanyId"]
        edges.append(
            {
                "node": {
                    "id": _gid("Document", node["id"]),
                    "title": node["title"],
                    "status": node["status"],
                    "owner": {
                        "id": _gid("User", owner["id"]),
                        "email": owner["email"],
                        "company": {"id": _gid("Company", company["id"]), "name": company["name"]},
                    },
                }
            }
        )
    return {"documents": {"edges": edges}}


def _w2(data: dict[str, Any]) -> dict[str, Any]:
    node = data["documentById"]
    if node is None:
        return {"document": None}
    return {
        "document": {
            "id": _gid("Document", node["id"]),
            "title": node["title"],
            "owner": {"email": node["userByOwnerId"]["email"]},
        }
    }


def _w3(data: dict[str, Any]) -> dict[str, Any]:
    def documents(conn: dict[str, Any]) -> dict[str, Any]:
        return {"totalCount": conn["totalCount"], "edges": [{"node": {"title": n["title"]}} for n in conn["nodes"]]}

    def users(conn: dict[str, Any]) -> dict[str, Any]:
        return {
            "totalCount": conn["totalCount"],
            "edges": [
                {"node": {"email": n["email"], "documents": documents(n["documentsByOwnerId"])}} for n in conn["nodes"]
            ],
        }

    companies = data["allCompanies"]
    return {
        "companies": {
            "totalCount": companies["totalCount"],
            "edges": [{"node": {"name": n["name"], "users": users(n["usersByCompanyId"])}} for n in companies["nodes"]],
        }
    }


def _w4(data: dict[str, Any]) -> dict[str, Any]:
    conn = data["allDocuments"]
    return {
        "documents": {
            "totalCount": conn["totalCount"],
            "pageInfo": {"hasNextPage": conn["pageInfo"]["hasNextPage"]},
            "edges": [
                {
                    "node": {
                        "id": _gid("Document", n["id"]),
                        "title": n["title"],
                        "status": n["status"],
                        "dueOn": n["dueOn"],
                    }
                }
                for n in conn["nodes"]
            ],
        }
    }


def _w5(data: dict[str, Any]) -> dict[str, Any]:
    payload = data.get("updateDocumentById")
    if not payload or not payload.get("document"):
        return {"updateDocument": {"__typename": "NotUpdated"}}
    document = payload["document"]
    return {
        "updateDocument": {
            "__typename": "DocumentPayload",
            "document": {
                "id": _gid("Document", document["id"]),
                "version": document["version"],
                "note": document["note"],
            },
        }
    }


MAPPERS = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "W5": _w5}


def to_project(workload: str, data: dict[str, Any]) -> dict[str, Any]:
    """A PostGraphile answer's ``data`` in the shape of the project's answer to the same workload."""
    return MAPPERS[workload](data)


def peer_payload(workload: str, payload: Any) -> Any:
    """A whole peer answer with its ``data`` mapped (errors and anything unexpected left as is)."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict) and not payload.get("errors"):
        try:
            return {**payload, "data": to_project(workload, payload["data"])}
        except (KeyError, TypeError):
            return payload
    return payload

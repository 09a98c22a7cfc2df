"""erasePerson and confirmErasure through the real app, against each blob store (the local one
the app serves, and S3 on moto's server): four eyes, every file version and upload gone from the
store, the personal fields pseudonymised, the kinds the law keeps left as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domains.kernel.ids import from_global_id, to_global_id
from tests.api.test_documents import (
    ADMIN,
    ALICE,
    BOB,
    CONFIRM,
    GLOBEX_HR,
    HR,
    PDF,
    REJECT,
    SUBMIT,
    Api,
    api,
    store_server,
)
from tests.blob_servers import s3_endpoint

__all__ = ["api", "s3_endpoint", "store_server"]  # fixtures, used by name

RESULT = """__typename
  ... on ErasureRequestPayload { erasureRequest { id status pseudonym filesDeleted reason } }
  ... on Error { code message }
  ... on ValidationError { fields { path message } }"""
ERASE = f"mutation($user: ID!, $reason: String!) {{ erasePerson(userId: $user, reason: $reason) {{ {RESULT} }} }}"
CONFIRM_ERASURE = f"mutation($id: ID!) {{ confirmErasure(id: $id) {{ {RESULT} }} }}"


async def _file(api: Api, kind: str, title: str, versions: int) -> str:
    """A document of Alice's with ``versions`` confirmed files; its Relay id."""
    granted = await api.ticket(kind=kind, title=title)
    id = granted["document"]["id"]
    upload, current = granted["upload"], granted["document"]["version"]
    for version in range(versions):
        if version:  # a new file after HR rejected the last one
            submitted = (await api.gql.data(SUBMIT, {"id": id, "v": current}, as_user=ALICE))[
                "submitDocumentForReview"
            ]
            rejected = await api.gql.data(
                REJECT, {"id": id, "v": submitted["document"]["version"], "reason": "blurred"}, as_user=HR
            )
            assert rejected["rejectDocument"]["__typename"] == "DocumentPayload", rejected
            upload = (await api.ticket(documentId=id))["upload"]
        assert (await api.post(upload, PDF)).status_code in (200, 201, 204)
        confirmed = (await api.gql.data(CONFIRM, {"id": id}, as_user=ALICE))["confirmDocumentUpload"]
        assert confirmed["__typename"] == "DocumentPayload", confirmed
        current = confirmed["document"]["version"]
    return str(id)


def _objects(api: Api, store_root: Path | None, endpoint: Any, prefix: str) -> list[str]:
    if store_root is not None:
        folder = store_root / prefix
        return sorted(
            str(p.relative_to(store_root)) for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".json")
        )
    found = endpoint.client().list_object_versions(Bucket=api.bucket, Prefix=prefix)
    return sorted(v["Key"] for v in (*found.get("Versions", ()), *found.get("DeleteMarkers", ())))


async def _row(api: Api, sql: str, **params: Any) -> Any:
    async with api.container.engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).one()


async def test_erasure_on_four_eyes_deletes_every_file_and_keeps_what_the_law_keeps(api: Api, request: Any) -> None:
    store_root = api.server_blobs.root if api.store == "local" else None
    endpoint = request.getfixturevalue("s3_endpoint") if api.store == "s3" else None
    demo = api.gql.demo
    company, alice = demo.principal(ALICE).company_id, demo.id(ALICE)
    passport = await _file(api, "ID", "Passport scan", versions=2)
    contract = await _file(api, "CONTRACT", "Signed contract", versions=1)
    passport_folder = f"{company}/{alice}/{from_global_id(passport)[1]}/"
    contract_folder = f"{company}/{alice}/{from_global_id(contract)[1]}/"
    assert len(_objects(api, store_root, endpoint, passport_folder)) == 2  # two sealed versions
    assert len(_objects(api, store_root, endpoint, f"uploads/{passport_folder}")) == 2  # and their uploads
    kept_before = _objects(api, store_root, endpoint, contract_folder)
    assert kept_before

    asked = (await api.gql.data(ERASE, {"user": to_global_id("User", alice), "reason": "left; asked"}, as_user=HR))[
        "erasePerson"
    ]
    assert asked["__typename"] == "ErasureRequestPayload", asked
    assert asked["erasureRequest"]["status"] == "REQUESTED" and asked["erasureRequest"]["pseudonym"] is None
    request_id = asked["erasureRequest"]["id"]

    # Four eyes: the one who asked may not confirm; an employee may do neither; Globex sees nothing.
    same = (await api.gql.data(CONFIRM_ERASURE, {"id": request_id}, as_user=HR))["confirmErasure"]
    assert (same["__typename"], same["code"]) == ("ForbiddenError", "FOUR_EYES"), same
    by_employee = (await api.gql.data(CONFIRM_ERASURE, {"id": request_id}, as_user=BOB))["confirmErasure"]
    assert by_employee["__typename"] in ("ForbiddenError", "NotFoundError"), by_employee
    asked_by_employee = (
        await api.gql.data(ERASE, {"user": to_global_id("User", alice), "reason": "x"}, as_user=BOB)
    )["erasePerson"]
    assert asked_by_employee["__typename"] == "ForbiddenError", asked_by_employee
    foreign = (await api.gql.data(CONFIRM_ERASURE, {"id": request_id}, as_user=GLOBEX_HR))["confirmErasure"]
    assert foreign["__typename"] == "NotFoundError", foreign
    twice = (await api.gql.data(ERASE, {"user": to_global_id("User", alice), "reason": "again"}, as_user=ADMIN))[
        "erasePerson"
    ]
    assert twice["__typename"] == "ConflictError", twice
    empty = (await api.gql.data(ERASE, {"user": to_global_id("User", alice), "reason": "  "}, as_user=HR))[
        "erasePerson"
    ]
    assert empty["__typename"] == "ValidationError", empty
    # nothing changed by any of these
    assert len(_objects(api, store_root, endpoint, passport_folder)) == 2
    assert (await _row(api, "SELECT email FROM users WHERE id = :id", id=alice)).email == ALICE

    done = (await api.gql.data(CONFIRM_ERASURE, {"id": request_id}, as_user=ADMIN))["confirmErasure"]
    assert done["__typename"] == "ErasureRequestPayload", done
    erased = done["erasureRequest"]
    assert erased["status"] == "DONE" and erased["pseudonym"].startswith("erased-")
    assert erased["filesDeleted"] == 4  # two versions and their two uploads

    assert _objects(api, store_root, endpoint, passport_folder) == []
    assert _objects(api, store_root, endpoint, f"uploads/{passport_folder}") == []
    assert _objects(api, store_root, endpoint, contract_folder) == kept_before  # the law keeps contracts
    user = await _row(api, "SELECT full_name, email FROM users WHERE id = :id", id=alice)
    assert (user.full_name, user.email) == (erased["pseudonym"], f"{erased['pseudonym']}@erased.invalid")
    scan = await _row(api, "SELECT title, note FROM documents WHERE id = :id", id=from_global_id(passport)[1])
    assert (scan.title, scan.note) == ("Erased", None)
    names = await _row(
        api,
        "SELECT array_agg(DISTINCT file_name) AS names FROM document_versions WHERE document_id = :id",
        id=from_global_id(passport)[1],
    )
    assert names.names == ["Erased"]
    kept = await _row(api, "SELECT title FROM documents WHERE id = :id", id=from_global_id(contract)[1])
    assert kept.title == "Signed contract"
    workflow = await _row(api, "SELECT title FROM workflows WHERE subject_id = :id", id=alice)
    assert "Alice" not in workflow.title and erased["pseudonym"] in workflow.title

    # the act and the pseudonym stay in the outbox (what an audit trail reads), no reason, no name
    async with api.container.engine.connect() as conn:
        events = (
            await conn.execute(
                sa.text("SELECT type, payload FROM events WHERE aggregate = 'ErasureRequest' ORDER BY id")
            )
        ).all()
    assert [e.type for e in events] == ["ErasureRequested", "PersonErased"]
    assert events[1].payload["pseudonym"] == erased["pseudonym"] and events[1].payload["filesDeleted"] == 4
    assert "reason" not in events[0].payload and "Alice" not in str([e.payload for e in events])

    again = (await api.gql.data(CONFIRM_ERASURE, {"id": request_id}, as_user=ADMIN))["confirmErasure"]
    assert again["__typename"] == "InvalidTransitionError", again

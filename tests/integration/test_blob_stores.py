"""One contract, both blob stores: the local store (its endpoints mounted as the app mounts
them) and S3 through moto's standalone server."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore, S3Settings
from app.blob_routes import local_blob_routes
from domains.document.ports import DownloadRequest, UploadPolicy
from tests.blob_servers import REGION, S3Endpoint, s3_endpoint

__all__ = ["s3_endpoint"]  # a fixture, used by name

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n" + b"\x00" * 40


@dataclass
class Store:
    name: str
    blobs: Any
    http: httpx.AsyncClient

    async def post(self, policy: UploadPolicy, data: bytes, **overrides: str) -> httpx.Response:
        ticket = await self.blobs.presign_upload(policy)
        fields = dict(ticket.fields)
        fields.update(overrides)
        return await self.http.post(ticket.url, data=fields, files={"file": ("x", data, policy.content_type)})


def _policy(max_bytes: int = len(PNG), expires_in: timedelta = timedelta(minutes=5)) -> UploadPolicy:
    key = f"{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}/v1"
    return UploadPolicy(
        key=key, content_type="image/png", max_bytes=max_bytes, expires_at=datetime.now(UTC) + expires_in
    )


@pytest.fixture(params=["local", "s3"])
async def store(request, tmp_path) -> AsyncIterator[Store]:
    if request.param == "local":
        blobs: Any = LocalBlobStore(tmp_path, "http://app.test", b"test-secret")
        transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            yield Store("local", blobs, http)
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    blobs = S3BlobStore(
        S3Settings(endpoint.bucket, endpoint.url, REGION, access_key_id="testing", secret_access_key="testing")
    )
    async with httpx.AsyncClient(timeout=30) as http:
        yield Store("s3", blobs, http)


async def test_an_upload_by_ticket_is_measured_by_inspect(store: Store) -> None:
    policy = _policy()
    posted = await store.post(policy, PNG)
    assert posted.status_code in (200, 201, 204), posted.text
    found = await store.blobs.inspect(policy.key)
    assert found is not None
    assert (found.size_bytes, found.content_type, found.sha256) == (
        len(PNG),
        "image/png",
        hashlib.sha256(PNG).hexdigest(),
    )
    assert found.head == PNG[:16]


async def test_a_missing_object_is_none(store: Store) -> None:
    assert await store.blobs.inspect(_policy().key) is None


async def test_a_download_link_serves_the_bytes_as_a_named_attachment(store: Store) -> None:
    policy = _policy()
    await store.post(policy, PNG)
    url = store.blobs.presign_download(
        DownloadRequest(policy.key, "Zeugnis Müller.png", "image/png", datetime.now(UTC) + timedelta(minutes=1))
    )
    got = await store.http.get(url)
    assert got.status_code == 200 and got.content == PNG
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment") and "Zeugnis%20M%C3%BCller.png" in disposition


async def test_the_local_store_enforces_its_policy(store: Store) -> None:
    if store.name != "local":
        pytest.skip("moto does not enforce POST policies; test_documents decodes the S3 policy instead")
    refused = {
        "expired": await store.post(_policy(expires_in=timedelta(seconds=-1)), PNG),
        "larger": await store.post(_policy(max_bytes=len(PNG) - 1), PNG),
        "empty": await store.post(_policy(), b""),
        "type": await store.post(_policy(), PNG, **{"Content-Type": "application/pdf"}),
        "key": await store.post(_policy(), PNG, key="someone/else/v1"),
        "signature": await store.post(_policy(), PNG, signature="forged"),
    }
    assert {name: r.status_code for name, r in refused.items()} == {
        "expired": 403,
        "larger": 400,
        "empty": 400,
        "type": 403,
        "key": 403,
        "signature": 403,
    }
    assert list((store.blobs.root).rglob("v1")) == []


async def test_a_local_download_link_expires_and_cannot_be_altered(store: Store) -> None:
    if store.name != "local":
        pytest.skip("S3 checks its own signatures; moto does not")
    policy = _policy()
    await store.post(policy, PNG)
    expired = store.blobs.presign_download(
        DownloadRequest(policy.key, "a.png", "image/png", datetime.now(UTC) - timedelta(seconds=1))
    )
    assert (await store.http.get(expired)).status_code == 403
    valid = store.blobs.presign_download(
        DownloadRequest(policy.key, "a.png", "image/png", datetime.now(UTC) + timedelta(minutes=1))
    )
    assert (await store.http.get(valid.replace("a.png", "b.png"))).status_code == 403

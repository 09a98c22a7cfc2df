"""One contract, both blob stores: the local store (its endpoints mounted as the app mounts
them) and S3 through moto's standalone server. Then the local store's own rules: a key is
written once, the form is checked before the file is read, uploads at once are bounded."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import httpx
import pytest
from starlette.applications import Starlette

from adapters.blobs.crypto import CHUNK, EncryptingWriter, MasterKeys, Undecryptable, decrypted_chunks, new_data_key
from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore, S3Settings
from app.blob_routes import local_blob_routes
from domains.document.ports import DownloadRequest, UploadPolicy
from tests.blob_servers import REGION, S3Endpoint, s3_endpoint

__all__ = ["s3_endpoint"]  # a fixture, used by name

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n" + b"\x00" * 40
# What an attacker posts again with the same ticket: the same magic bytes, then a page.
POLYGLOT = b"\x89PNG\r\n\x1a\n<html><script>alert(document.domain)</script></html>" + b"\x00" * 300
SAFE = {"x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; sandbox"}


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
    key = f"uploads/{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}/v1-20260101T000000000000Z"
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
    assert await store.blobs.read(_policy().key) is None


async def test_read_gives_the_plaintext_a_worker_analyses(store: Store) -> None:
    """What the analysis of a file reads: the bytes uploaded, never the encrypted ones."""
    policy = _policy()
    posted = await store.post(policy, PNG)
    assert posted.status_code in (200, 201, 204), posted.text
    key = _sealed_key()
    assert await store.blobs.seal(policy.key, key) is not None
    assert await store.blobs.read(key) == PNG


def _link(
    key: str, name: str = "a.png", data: bytes = PNG, expires_in: timedelta = timedelta(minutes=1)
) -> DownloadRequest:
    sha = hashlib.sha256(data).hexdigest()
    return DownloadRequest(key, name, "image/png", sha, datetime.now(UTC) + expires_in)


def _sealed_key() -> str:
    return f"{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}/v1-{uuid.uuid4().hex[:16]}"


async def test_a_download_link_serves_the_bytes_as_a_named_attachment(store: Store) -> None:
    policy = _policy()
    await store.post(policy, PNG)
    got = await store.http.get(store.blobs.presign_download(_link(policy.key, "Zeugnis Müller.png")))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment") and "Zeugnis%20M%C3%BCller.png" in disposition
    if store.name == "local":  # S3 cannot send these; README: a CDN's response headers policy
        assert {name: got.headers.get(name) for name in SAFE} == SAFE


async def test_a_sealed_copy_serves_the_recorded_bytes_whatever_the_ticket_posts_again(store: Store) -> None:
    """Upload, confirm (seal), post again with the same ticket, download: the sealed bytes."""
    policy = _policy(max_bytes=len(POLYGLOT))
    ticket = await store.blobs.presign_upload(policy)
    first = await store.http.post(ticket.url, data=dict(ticket.fields), files={"file": ("a.png", PNG, "image/png")})
    assert first.status_code in (200, 201, 204), first.text
    uploaded = await store.blobs.inspect(policy.key)
    key = _sealed_key()
    sealed = await store.blobs.seal(policy.key, key)
    assert sealed is not None and sealed.sha256 == hashlib.sha256(PNG).hexdigest() and sealed.size_bytes == len(PNG)
    assert uploaded is not None and sealed.stored_at == uploaded.stored_at  # the upload's time, not the copy's
    again = await store.http.post(
        ticket.url, data=dict(ticket.fields), files={"file": ("a.png", POLYGLOT, "image/png")}
    )
    if store.name == "local":
        assert again.status_code == 409, again.text  # a key is written once
        assert await store.blobs.inspect(policy.key) == uploaded
    else:
        assert again.status_code in (200, 201, 204)  # S3 (and moto) take a second POST in time
    got = await store.http.get(store.blobs.presign_download(_link(key, data=PNG)))
    assert got.status_code == 200 and got.content == PNG
    now = await store.blobs.inspect(key)  # on S3 the copy's own time; seal tells the upload's
    assert now is not None and (now.sha256, now.size_bytes, now.head) == (sealed.sha256, sealed.size_bytes, sealed.head)


async def test_seal_without_an_upload_is_none_and_discard_removes_a_copy(store: Store) -> None:
    assert await store.blobs.seal(_policy().key, _sealed_key()) is None
    policy, key = _policy(), _sealed_key()
    await store.post(policy, PNG)
    assert await store.blobs.seal(policy.key, key) is not None
    await store.blobs.discard(key)
    await store.blobs.discard(key)  # a second time is no error
    assert await store.blobs.inspect(key) is None


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
    expired = store.blobs.presign_download(_link(policy.key, expires_in=timedelta(seconds=-1)))
    assert (await store.http.get(expired)).status_code == 403
    valid = store.blobs.presign_download(_link(policy.key))
    assert (await store.http.get(valid.replace("a.png", "b.png"))).status_code == 403
    assert (await store.http.get(valid.replace("sha256=", "sha256=0"))).status_code == 403


# ---- the local store's own rules ----------------------------------------------------------


@pytest.fixture
async def local(tmp_path) -> AsyncIterator[Store]:
    blobs = LocalBlobStore(tmp_path, "http://app.test", b"test-secret", max_concurrent_uploads=1)
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        yield Store("local", blobs, http)


async def test_the_local_store_checks_the_checksum_on_download(local: Store) -> None:
    policy, key = _policy(), _sealed_key()
    await local.post(policy, PNG)
    await local.blobs.seal(policy.key, key)
    link = local.blobs.presign_download(_link(key))
    assert (await local.http.get(link)).content == PNG
    (local.blobs.root / key).unlink()  # what only someone on the disk could do: the bytes change
    (local.blobs.root / key).write_bytes(POLYGLOT)
    got = await local.http.get(link)
    assert got.status_code == 500 and POLYGLOT not in got.content
    assert got.json() == {"error": "the stored file does not match its recorded checksum"}


def _form(fields: list[tuple[str, str]], data: bytes, boundary: str = "b0undary") -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'.encode() for n, v in fields]
    file = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n'
    file += "Content-Type: image/png\r\n\r\n"
    return b"".join(parts) + file.encode() + data + f"\r\n--{boundary}--\r\n".encode()


async def test_only_the_fields_before_the_file_count_and_they_are_bounded(local: Store) -> None:
    policy = _policy()
    fields = list((await local.blobs.presign_upload(policy)).fields)
    headers = {"content-type": "multipart/form-data; boundary=b0undary"}

    async def post(body: bytes) -> int:
        return (await local.http.post("http://app.test/blobs/upload", content=body, headers=headers)).status_code

    file_first = _form([], PNG)[: -len("--b0undary--\r\n")] + _form(fields, b"")
    assert await post(file_first) == 403  # the policy came after the file: S3 ignores it too
    assert await post(_form([*fields, *((f"x{i}", "y") for i in range(8))], PNG)) == 400  # too many fields
    assert await post(_form([("x", "y" * 5000), *fields], PNG)) == 400  # one field too large
    assert await post(b"--b0undary\r\n" + b"z" * 40_000) == 400  # no form at all
    assert await local.blobs.inspect(policy.key) is None
    assert await post(_form(fields, PNG)) == 204
    assert (await local.blobs.inspect(policy.key)) is not None
    assert list((local.blobs.root / ".incoming").iterdir()) == []


async def test_uploads_at_once_are_bounded_and_a_refused_one_leaves_nothing(local: Store) -> None:
    """max_concurrent_uploads=1: while one file is arriving, a second gets 503 at once."""
    slow, fast = _policy(max_bytes=200_000), _policy()
    slow_fields = list((await local.blobs.presign_upload(slow)).fields)
    body = _form(slow_fields, b"\x89PNG\r\n\x1a\n" + b"\x00" * 150_000)
    resume = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield body[:2000]  # the fields and the file's first bytes
        await resume.wait()
        yield body[2000:]

    headers = {"content-type": "multipart/form-data; boundary=b0undary"}
    first = asyncio.create_task(local.http.post("http://app.test/blobs/upload", content=trickle(), headers=headers))
    for _ in range(200):  # until the first file is being received (bounded)
        if local.blobs._receiving:
            break
        await asyncio.sleep(0.01)
    second = await local.post(fast, PNG)
    assert second.status_code == 503 and await local.blobs.inspect(fast.key) is None
    resume.set()
    assert (await first).status_code == 204
    assert (await local.post(fast, PNG)).status_code == 204
    assert (await local.blobs.inspect(slow.key)).size_bytes == 150_008  # type: ignore[union-attr]


async def test_an_upload_declared_larger_than_the_stores_largest_is_refused_unread(tmp_path) -> None:
    """The upload route's cap is the store's: its largest file and the form around it. Bytes
    after the file's part are not read, so only the declared length refuses this body."""
    blobs = LocalBlobStore(tmp_path, "http://app.test", b"test-secret", max_file_bytes=len(PNG))
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    headers = {"content-type": "multipart/form-data; boundary=b0undary"}

    async def post(policy: UploadPolicy, size: int) -> httpx.Response:
        body = _form(list((await blobs.presign_upload(policy)).fields), PNG)
        body += b"x" * (size - len(body))  # after the closing boundary
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            return await http.post("http://app.test/blobs/upload", content=body, headers=headers)

    at_the_cap, past_it = _policy(), _policy()
    assert (await post(at_the_cap, blobs.max_upload_bytes)).status_code == 204
    refused = await post(past_it, blobs.max_upload_bytes + 1)
    assert (refused.status_code, refused.json()) == (413, {"error": "the upload is too large"})
    assert await blobs.inspect(past_it.key) is None and await blobs.inspect(at_the_cap.key) is not None


# ---- encryption at rest ----------------------------------------------------------------------


async def test_every_object_is_encrypted_at_rest(store: Store, s3_endpoint: S3Endpoint) -> None:
    """Local: the bytes on disk are sealed frames, the file's key is wrapped in its metadata.
    S3: the ticket carries the SSE header and its policy requires it (S3 refuses a POST that
    drops it; moto does not check policies, so the policy is read here), and the sealed copy is
    encrypted too."""
    policy, key = _policy(), _sealed_key()
    ticket = await store.blobs.presign_upload(policy)
    await store.post(policy, PNG)
    await store.blobs.seal(policy.key, key)
    if store.name == "local":
        for stored in (policy.key, key):
            on_disk = (store.blobs.root / stored).read_bytes()
            assert PNG not in on_disk and PNG[:16] not in on_disk and on_disk.startswith(b"HRGE1")
            meta = json.loads((store.blobs.root / f"{stored}.meta.json").read_text())
            assert meta["encryption"]["keyId"] == store.blobs.keys.current and meta["encryption"]["wrappedKey"]
    else:
        fields = dict(ticket.fields)
        assert fields["x-amz-server-side-encryption"] == "AES256"
        conditions = _post_policy(fields)["conditions"]
        assert {"x-amz-server-side-encryption": "AES256"} in conditions
        # moto keeps no form field of a POST: the sealed copy, what is served, asks for it itself
        head = s3_endpoint.client().head_object(Bucket=s3_endpoint.bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256"
    got = await store.http.get(store.blobs.presign_download(_link(key)))
    assert got.status_code == 200 and got.content == PNG


def _post_policy(fields: dict[str, str]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return policy


async def test_with_a_kms_key_s3_uploads_must_ask_for_sse_kms_with_it(s3_endpoint: S3Endpoint) -> None:
    kms = boto3.client(
        "kms", endpoint_url=s3_endpoint.url, region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    key_id = kms.create_key(Description="hrgraph documents")["KeyMetadata"]["KeyId"]
    blobs = S3BlobStore(
        S3Settings(s3_endpoint.bucket, s3_endpoint.url, REGION, "testing", "testing", kms_key_id=key_id)
    )
    policy, sealed = _policy(), _sealed_key()
    ticket = await blobs.presign_upload(policy)
    fields = dict(ticket.fields)
    wanted = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": key_id}
    assert {name: fields[name] for name in wanted} == wanted
    conditions = _post_policy(fields)["conditions"]
    assert all({name: value} in conditions for name, value in wanted.items())
    async with httpx.AsyncClient(timeout=30) as http:
        posted = await http.post(ticket.url, data=fields, files={"file": ("x", PNG, "image/png")})
    assert posted.status_code in (200, 201, 204), posted.text
    assert await blobs.seal(policy.key, sealed) is not None
    head = s3_endpoint.client().head_object(Bucket=s3_endpoint.bucket, Key=sealed)
    assert head["ServerSideEncryption"] == "aws:kms" and key_id in head["SSEKMSKeyId"]


@pytest.mark.parametrize("size", [1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_frames_round_trip_at_every_boundary_and_a_cut_or_change_fails(size: int) -> None:
    data, data_key = os.urandom(size), new_data_key()
    out = io.BytesIO()
    writer = EncryptingWriter(out, data_key)
    for start in range(0, size, 5000):  # written as it arrives, in pieces unaligned to frames
        writer.write(data[start : start + 5000])
    writer.finish()
    sealed = out.getvalue()
    assert b"".join(decrypted_chunks(io.BytesIO(sealed), data_key)) == data
    frame = CHUNK + 16
    cuts = [sealed[:-1], sealed[: 12 + frame]] if size > CHUNK else [sealed[:-1]]
    flipped = bytearray(sealed)
    flipped[len(sealed) // 2] ^= 1
    for broken in (*cuts, bytes(flipped)):
        with pytest.raises(Undecryptable):
            b"".join(decrypted_chunks(io.BytesIO(broken), data_key))
    with pytest.raises(Undecryptable):
        b"".join(decrypted_chunks(io.BytesIO(sealed), new_data_key()))


async def test_a_download_decrypts_as_it_streams(tmp_path) -> None:
    """A file of many frames is served a frame at a time, never held whole."""
    big = os.urandom(5 * CHUNK + 3)
    blobs = LocalBlobStore(tmp_path, "http://app.test", b"test-secret", max_file_bytes=len(big))
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        policy = _policy(max_bytes=len(big))
        assert (await Store("local", blobs, http).post(policy, big)).status_code == 204
        link = blobs.presign_download(_link(policy.key, data=big))
        assert (await http.get(link)).content == big
    found = await blobs.open_download(dict(parse_qsl(urlsplit(link).query)))
    pieces = [piece async for piece in found.body]
    assert found.size == len(big) and b"".join(pieces) == big
    assert len(pieces) == 6 and max(map(len, pieces)) == CHUNK


async def test_rotation_rewraps_every_key_under_the_new_master_key_and_leaves_the_files(tmp_path) -> None:
    old = MasterKeys.parse("old:" + base64.b64encode(os.urandom(32)).decode())
    blobs = LocalBlobStore(tmp_path, "http://app.test", b"test-secret", keys=old)
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        store = Store("local", blobs, http)
        policy, key = _policy(), _sealed_key()
        await store.post(policy, PNG)
        await blobs.seal(policy.key, key)
        files = {k: ((tmp_path / k).read_bytes(), (tmp_path / k).stat().st_mtime_ns) for k in (policy.key, key)}
        new_key = base64.b64encode(os.urandom(32)).decode()
        rotated = MasterKeys.parse(f"new:{new_key},old:{base64.b64encode(old.keys['old']).decode()}")
        blobs.keys = rotated
        assert await blobs.rewrap_keys() == (2, 0)
        assert await blobs.rewrap_keys() == (0, 2)  # done once
        for k, (content, mtime) in files.items():
            assert (tmp_path / k).read_bytes() == content and (tmp_path / k).stat().st_mtime_ns == mtime
            assert json.loads((tmp_path / f"{k}.meta.json").read_text())["encryption"]["keyId"] == "new"
        blobs.keys = MasterKeys.parse(f"new:{new_key}")  # the old master key retired
        got = await http.get(blobs.presign_download(_link(key)))
        assert got.status_code == 200 and got.content == PNG
        blobs.keys = old  # an object's key no longer opens with the old master key alone
        refused = await http.get(blobs.presign_download(_link(key)))
        assert refused.status_code == 500 and PNG not in refused.content

"""``python -m app keys rotate`` as an operator runs it: the object keys of the local store are
re-wrapped under the new master key, the files stay byte for byte, downloads still work."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette

from adapters.blobs.crypto import KEYRING_FILE, MasterKeys
from adapters.blobs.local import LocalBlobStore
from app.blob_routes import local_blob_routes
from tests.integration.test_blob_stores import PNG, _link, _policy, _sealed_key

ROOT = Path(__file__).resolve().parents[2]
OWN = ("APP_ENV", "DATA_DIR", "BLOB_ENCRYPTION_KEYS", "S3_BUCKET", "DATABASE_URL")


def rotate(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in OWN}
    return subprocess.run(
        [sys.executable, "-m", "app", "keys", "rotate"],
        cwd=ROOT,
        env={**clean, "APP_ENV": "test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _stored(blobs: LocalBlobStore) -> str:
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        policy, key = _policy(), _sealed_key()
        ticket = await blobs.presign_upload(policy)
        posted = await http.post(ticket.url, data=dict(ticket.fields), files={"file": ("x", PNG, "image/png")})
        assert posted.status_code == 204
        assert await blobs.seal(policy.key, key) is not None
    return key


async def _download(blobs: LocalBlobStore, key: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=local_blob_routes(blobs)))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        return await http.get(blobs.presign_download(_link(key)))


async def test_in_development_a_new_key_joins_the_keyring_and_every_object_key_moves_to_it(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs", "http://app.test", b"s")  # the data folder's keyring
    key = await _stored(blobs)
    before = MasterKeys.development(tmp_path)
    content = (tmp_path / "blobs" / key).read_bytes()
    done = rotate(DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    after = MasterKeys.development(tmp_path)
    assert after.current != before.current and set(before.keys) < set(after.keys)
    assert f"2 object keys re-wrapped under {after.current}" in done.stdout
    assert (tmp_path / "blobs" / key).read_bytes() == content
    meta = json.loads((tmp_path / "blobs" / f"{key}.meta.json").read_text())
    assert meta["encryption"]["keyId"] == after.current
    only_new = MasterKeys({after.current: after.keys[after.current]}, after.current)
    fresh = LocalBlobStore(tmp_path / "blobs", "http://app.test", b"s", keys=only_new)
    assert (await _download(fresh, key)).content == PNG
    assert (tmp_path / KEYRING_FILE).stat().st_mode & 0o077 == 0  # the keyring is the owner's alone


async def test_with_the_setting_the_first_key_is_the_new_one(tmp_path) -> None:
    old, new = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    blobs = LocalBlobStore(tmp_path / "blobs", "http://app.test", b"s", keys=MasterKeys.parse(f"a:{old}"))
    key = await _stored(blobs)
    done = rotate(DATA_DIR=str(tmp_path), BLOB_ENCRYPTION_KEYS=f"b:{new},a:{old}")
    assert done.returncode == 0, done.stderr
    assert "2 object keys re-wrapped under b" in done.stdout
    assert not (tmp_path / KEYRING_FILE).exists()
    retired = LocalBlobStore(tmp_path / "blobs", "http://app.test", b"s", keys=MasterKeys.parse(f"b:{new}"))
    assert (await _download(retired, key)).content == PNG
    again = rotate(DATA_DIR=str(tmp_path), BLOB_ENCRYPTION_KEYS=f"b:{new},a:{old}")
    assert "0 object keys re-wrapped under b" in again.stdout and "2 already were" in again.stdout

"""Uploads to the local store against a real server process (``python -m app serve``): a body
that is not signed is refused before the client has sent it, many of them leave the server's
memory flat (its peak RSS, from /proc), and a valid upload still streams to disk.

Issue 14: 40 concurrent unsigned 10 MiB bodies grew the server by 468 MiB, since each was read
whole before any check."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.blobs.local import LocalBlobStore
from domains.document.ports import UploadPolicy
from tests.api.test_processes import ServerProcess

MiB = 1024 * 1024
SECRET = "uploads-test-blob-secret-0123456789"
BOUNDARY = "hrgraph-test-boundary"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[ServerProcess, LocalBlobStore]]:
    with tempfile.TemporaryDirectory(prefix="hrgraph-uploads-") as data:
        process = ServerProcess(database_url, DATA_DIR=data, BLOB_SECRET=SECRET, MAX_CONCURRENT_UPLOADS="4")
        # the same folder and secret as the server's: tickets made here are the server's own
        store = LocalBlobStore(Path(data) / "blobs", process.url, SECRET.encode())
        try:
            yield process.wait_ready(), store
        finally:
            process.stop()


def peak_rss(process: ServerProcess) -> int:
    """The server's resident high-water mark (VmHWM), in bytes."""
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def reset_peak_rss(process: ServerProcess) -> None:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    Path(f"/proc/{process.process.pid}/clear_refs").write_text("5")


def form_head(fields: list[tuple[str, str]]) -> bytes:
    """The fields, then the file part's headers: what precedes a file's bytes."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n' for n, v in fields]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n')
    parts.append("Content-Type: image/png\r\n\r\n")
    return "".join(parts).encode()


def forged_fields(store: LocalBlobStore, key: str) -> list[tuple[str, str]]:
    policy = UploadPolicy(key, "image/png", 10 * MiB, datetime.now(UTC) + timedelta(minutes=5))
    fields = dict(asyncio.run(store.presign_upload(policy)).fields)
    fields["signature"] = "forged" + fields["signature"][6:]
    return list(fields.items())


async def unsigned_upload(url: str, head: bytes, total: int, pause: float | None = None) -> tuple[bytes, int]:
    """Sends a multipart POST declaring ``total`` bytes; returns what the server answered and
    how many body bytes were sent. With ``pause``, stops sending after the head and 64 KiB of
    file, and waits that long for an answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    request = (
        f"POST /blobs/upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {total}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    ).encode()
    sent = 0
    answer = b""
    try:
        writer.write(request + head)
        sent += len(head)
        chunk = b"\x89PNG\r\n\x1a\n" + b"\x00" * (64 * 1024 - 8)
        while sent < total:
            piece = chunk[: total - sent]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
            if pause is not None:
                break
        async with asyncio.timeout(pause or 10):
            while len(answer) < 64 * 1024 and (more := await reader.read(4096)):  # to the close
                answer += more
    except (ConnectionError, TimeoutError):
        pass
    finally:
        writer.close()
    return answer, sent


def test_an_unsigned_body_is_refused_before_the_client_has_sent_it(server) -> None:
    process, store = server
    head = form_head(forged_fields(store, "uploads/a/b/c/v1-1"))
    started = time.monotonic()
    answer, sent = asyncio.run(unsigned_upload(process.url, head, 10 * MiB, pause=5))
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert b"signature is missing or wrong" in answer
    assert sent < 100 * 1024 and time.monotonic() - started < 5  # 1% of the body, answered at once


def test_many_unsigned_large_bodies_leave_the_servers_memory_flat(server) -> None:
    process, store = server
    head = form_head(forged_fields(store, "uploads/a/b/c/v1-2"))

    async def attack() -> list[tuple[bytes, int]]:
        async with asyncio.timeout(60):
            return await asyncio.gather(*(unsigned_upload(process.url, head, 10 * MiB) for _ in range(40)))

    reset_peak_rss(process)
    before = peak_rss(process)
    answers = asyncio.run(attack())
    grown = peak_rss(process) - before
    assert grown < 40 * MiB, f"the server's peak RSS grew by {grown / MiB:.0f} MiB"
    # each was refused (or cut off while sending), none read to its end
    assert all(answer.startswith(b"HTTP/1.1 403") or sent < 10 * MiB for answer, sent in answers)
    incoming = store.root / ".incoming"  # where files arrive: nothing of theirs was kept
    assert not incoming.exists() or list(incoming.iterdir()) == []
    assert httpx.get(f"{process.url}/healthz", timeout=5).status_code == 200


def test_valid_uploads_stream_to_disk(server) -> None:
    """Four 8 MiB files at once: stored, measured, and the server never held them whole."""
    process, store = server
    files = [b"\x89PNG\r\n\x1a\n" + os.urandom(8 * MiB - 8) for _ in range(4)]
    keys = [f"uploads/a/b/c/v1-valid{i}" for i in range(4)]

    async def upload_all() -> list[int]:
        async with httpx.AsyncClient(timeout=60) as http:

            async def one(key: str, data: bytes) -> int:
                policy = UploadPolicy(key, "image/png", len(data), datetime.now(UTC) + timedelta(minutes=5))
                ticket = await store.presign_upload(policy)
                response = await http.post(
                    ticket.url, data=dict(ticket.fields), files={"file": ("a.png", data, "image/png")}
                )
                return response.status_code

            return await asyncio.gather(*(one(k, d) for k, d in zip(keys, files, strict=True)))

    reset_peak_rss(process)
    before = peak_rss(process)
    assert asyncio.run(upload_all()) == [204] * 4
    grown = peak_rss(process) - before
    assert grown < 16 * MiB, f"the server's peak RSS grew by {grown / MiB:.0f} MiB for 32 MiB of files"
    for key, data in zip(keys, files, strict=True):
        found = asyncio.run(store.inspect(key))
        assert found is not None and found.sha256 == hashlib.sha256(data).hexdigest()

"""The embedded blob store: files on local disk, uploaded and downloaded through the app.

It speaks the same presigned-POST shape as S3 (a form with ``key``, ``Content-Type``, a
``policy`` and its ``signature``, then ``file``), so a frontend does not care which store is
behind a ticket. Unlike moto, it enforces the policy itself: exact key, exact content type,
size within the range, not expired, signature intact. Download links are signed and expire too.
The app serves both endpoints (``app/http.py``); this module holds every rule.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from domains.document.model import StoredFile
from domains.document.ports import DownloadRequest, UploadPolicy, UploadTicket

UPLOAD_PATH = "/blobs/upload"
DOWNLOAD_PATH = "/blobs/download"
FORM_OVERHEAD = 16 * 1024  # the form fields and multipart boundaries around the file
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class Refused(Exception):
    """An upload or download the store will not serve: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Download:
    path: Path
    file_name: str
    content_type: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> datetime:
    return datetime.now(UTC)


class LocalBlobStore:
    def __init__(self, root: Path, base_url: str, secret: bytes, clock: Callable[[], datetime] = _now) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self._secret = hashlib.sha256(b"hrgraph-local-blobs:" + secret).digest()
        self._clock = clock

    # ---- the BlobStore port ----------------------------------------------------------------

    async def presign_upload(self, policy: UploadPolicy) -> UploadTicket:
        document = {
            "key": policy.key,
            "contentType": policy.content_type,
            "maxBytes": policy.max_bytes,
            "expires": int(policy.expires_at.timestamp()),
        }
        encoded = _b64(json.dumps(document, separators=(",", ":")).encode())
        fields = (
            ("key", policy.key),
            ("Content-Type", policy.content_type),
            ("policy", encoded),
            ("signature", self._sign(encoded)),
        )
        return UploadTicket(url=self.base_url + UPLOAD_PATH, fields=fields, expires_at=policy.expires_at)

    async def inspect(self, key: str) -> StoredFile | None:
        return await asyncio.to_thread(self._inspect, key)

    def presign_download(self, request: DownloadRequest) -> str:
        params = {
            "key": request.key,
            "filename": request.file_name,
            "type": request.content_type,
            "expires": str(int(request.expires_at.timestamp())),
        }
        params["signature"] = self._sign(urlencode(params))
        return f"{self.base_url}{DOWNLOAD_PATH}?{urlencode(params)}"

    # ---- what the app's endpoints call ------------------------------------------------------

    async def accept_upload(self, content_type: str, body: bytes) -> str:
        """Checks a multipart POST against its signed policy and stores the file; returns the key."""
        fields, data = _parse_form(content_type, body)
        encoded, signature = fields.get("policy", ""), fields.get("signature", "")
        if not encoded or not hmac.compare_digest(self._sign(encoded), signature):
            raise Refused(403, "the upload policy or its signature is missing or wrong")
        try:
            policy = json.loads(_unb64(encoded))
        except ValueError:
            raise Refused(400, "the upload policy is not readable") from None
        if self._clock().timestamp() > policy["expires"]:
            raise Refused(403, "the upload ticket has expired")
        if fields.get("key") != policy["key"]:
            raise Refused(403, "the key is not the one the ticket allows")
        if fields.get("Content-Type") != policy["contentType"]:
            raise Refused(403, "the Content-Type is not the one the ticket allows")
        if data is None:
            raise Refused(400, "the form has no file")
        if not 1 <= len(data) <= policy["maxBytes"]:
            raise Refused(400, f"the file must be between 1 and {policy['maxBytes']} bytes")
        # like S3, the store keeps the form's Content-Type field, not the file part's header
        await asyncio.to_thread(self._write, policy["key"], policy["contentType"], data)
        return str(policy["key"])

    def open_download(self, query: Mapping[str, str]) -> Download:
        params = {name: query.get(name, "") for name in ("key", "filename", "type", "expires")}
        if not hmac.compare_digest(self._sign(urlencode(params)), query.get("signature", "")):
            raise Refused(403, "the download link is not valid")
        if not params["expires"].isdigit() or self._clock().timestamp() > int(params["expires"]):
            raise Refused(403, "the download link has expired")
        path = self._path(params["key"])
        if not path.is_file():
            raise Refused(404, "no such file")
        return Download(path, params["filename"], params["type"])

    # ---- disk --------------------------------------------------------------------------------

    def _sign(self, message: str) -> str:
        return _b64(hmac.new(self._secret, message.encode(), hashlib.sha256).digest())

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise Refused(400, "not a valid key")
        return self.root / key

    def _write(self, key: str, content_type: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        path.with_name(path.name + ".meta.json").write_text(json.dumps({"contentType": content_type}))
        os.replace(partial, path)  # readers see the whole file or none

    def _inspect(self, key: str) -> StoredFile | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
        digest = hashlib.sha256()
        size = 0
        head = b""
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                if not head:
                    head = chunk[:16]
                digest.update(chunk)
                size += len(chunk)
        return StoredFile(
            size_bytes=size,
            content_type=meta["contentType"],
            sha256=digest.hexdigest(),
            head=head,
            stored_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        )


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """A multipart/form-data body (RFC 7578): its text fields, and the ``file`` part's bytes."""
    kind, _, params = content_type.partition(";")
    boundary = re.search(r'boundary="?([^";]+)"?', params)
    if kind.strip().lower() != "multipart/form-data" or boundary is None:
        raise Refused(400, "send the upload as multipart/form-data")
    fields: dict[str, str] = {}
    data: bytes | None = None
    for raw in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if raw.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = raw.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise Refused(400, "the form could not be read")
        content = content.removesuffix(b"\r\n")
        headers = head.decode("latin-1")
        name = re.search(r'content-disposition:[^\r\n]*?\bname="([^"]*)"', headers, re.IGNORECASE)
        if name is None:
            continue
        if name.group(1) == "file":
            data = content
        elif data is None:  # as with S3, fields after the file are ignored
            fields[name.group(1)] = content.decode()
    return fields, data

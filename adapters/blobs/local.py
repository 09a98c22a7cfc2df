"""The embedded blob store: files on local disk, uploaded and downloaded through the app.

It speaks the same presigned-POST shape as S3 (a form with ``key``, ``Content-Type``, a
``policy`` and its ``signature``, then ``file``), so a frontend does not care which store is
behind a ticket. Unlike moto, it enforces the policy itself: exact key, exact content type,
size within the range, not expired, signature intact, and a key is written once. Download
links are signed, expire, and serve only bytes whose SHA-256 is the recorded one.

An upload is read as it arrives (python-multipart's streaming parser): the fields before the
file are checked against the signed policy before one byte of the file is read, and the file
goes to disk chunk by chunk, never past the ticket's size. The app serves both endpoints
(``app/blob_routes.py``); this module holds every rule.

Every object is encrypted at rest (``adapters/blobs/crypto.py``): a data key per upload, the
file written as sealed frames while it arrives, the wrapped data key in its metadata file; a
download decrypts frame by frame as it streams. Files stored before encryption (no key in
their metadata) are still read as they are.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urlencode

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from adapters.blobs.crypto import (
    EncryptingWriter,
    MasterKeys,
    Undecryptable,
    decrypted_chunks,
    new_data_key,
)
from domains.document.model import KIND_RULES, StoredFile
from domains.document.ports import DownloadRequest, UploadPolicy, UploadTicket

UPLOAD_PATH = "/blobs/upload"
DOWNLOAD_PATH = "/blobs/download"
FORM_OVERHEAD = 16 * 1024  # the form fields and multipart boundaries around the file
LARGEST_FILE = max(rule.max_bytes for rule in KIND_RULES.values())  # what a ticket may allow at most
MAX_FIELDS = 8  # text fields before the file (a ticket has four)
MAX_FIELD_BYTES = 4096
WRITE_BATCH = 256 * 1024  # file bytes held before they go to disk
READ_CHUNK = 1 << 16
INCOMING = ".incoming"  # files still arriving; no key starts with a dot
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class Refused(Exception):
    """An upload or download the store will not serve: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Download:
    """A file checked against its recorded SHA-256, read from the handle that was checked."""

    file_name: str
    content_type: str
    size: int
    body: AsyncIterator[bytes]


@dataclass(frozen=True)
class _Policy:
    key: str
    content_type: str
    max_bytes: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> datetime:
    return datetime.now(UTC)


def _meta(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


class LocalBlobStore:
    def __init__(
        self,
        root: Path,
        base_url: str,
        secret: bytes,
        clock: Callable[[], datetime] = _now,
        max_concurrent_uploads: int = 8,
        max_file_bytes: int = LARGEST_FILE,
        keys: MasterKeys | None = None,
    ) -> None:
        """``keys``: the master keys; by default the development keyring beside ``root``."""
        self.root = root
        self.keys = keys if keys is not None else MasterKeys.development(root.parent)
        self.base_url = base_url.rstrip("/")
        self._secret = hashlib.sha256(b"hrgraph-local-blobs:" + secret).digest()
        self._clock = clock
        self.max_concurrent_uploads = max_concurrent_uploads
        self._receiving = 0  # files being received; counted on the event loop, no await between
        # The largest upload body it reads: the largest file and the form around it. A body
        # declared larger is refused before it is read (app/blob_routes.py).
        self.max_upload_bytes = max_file_bytes + FORM_OVERHEAD

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

    async def seal(self, upload_key: str, key: str) -> StoredFile | None:
        return await asyncio.to_thread(self._seal, upload_key, key)

    async def read(self, key: str) -> bytes | None:
        """The object's plaintext, whole (what a worker's analysis or an export reads): decrypted."""
        return await asyncio.to_thread(self._read_plain, key)

    async def write(self, key: str, data: bytes, content_type: str) -> str:
        """Stores ``data`` (encrypted, as every object) at a key never written before (an
        export's archive); its SHA-256."""
        return await asyncio.to_thread(self._write, key, data, content_type)

    async def discard(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        await asyncio.to_thread(_meta(path).unlink, missing_ok=True)

    def presign_download(self, request: DownloadRequest) -> str:
        params = {
            "key": request.key,
            "filename": request.file_name,
            "type": request.content_type,
            "sha256": request.sha256,
            "expires": str(int(request.expires_at.timestamp())),
        }
        params["signature"] = self._sign(urlencode(params))
        return f"{self.base_url}{DOWNLOAD_PATH}?{urlencode(params)}"

    # ---- what the app's endpoints call ------------------------------------------------------

    async def receive_upload(self, content_type: str, body: AsyncIterator[bytes]) -> str:
        """Reads a multipart POST as it arrives, checks it against its signed policy before the
        file, and stores the file under the policy's key, once; returns the key."""
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise Refused(400, "send the upload as multipart/form-data")
        try:
            form = _Form(boundary)
        except FormParserError:
            raise Refused(400, "the form's boundary is not usable") from None
        incoming = self.root / INCOMING / secrets.token_hex(16)
        file: IO[bytes] | None = None
        sealer: EncryptingWriter | None = None
        data_key = new_data_key()
        policy: _Policy | None = None
        receiving = False
        try:
            async for chunk in body:
                if form.feed(chunk):
                    policy = self._admit(form.fields)
                    if self._receiving >= self.max_concurrent_uploads:
                        raise Refused(503, "too many uploads at once: try again in a moment")
                    self._receiving, receiving = self._receiving + 1, True
                    file = await asyncio.to_thread(_create, incoming)
                    sealer = EncryptingWriter(file, data_key)
                if policy is not None and form.file_bytes > policy.max_bytes:
                    raise Refused(400, f"the file must be between 1 and {policy.max_bytes} bytes")
                if sealer is not None and (form.pending_bytes >= WRITE_BATCH or form.file_done):
                    await asyncio.to_thread(sealer.write, form.take_pending())
                if form.file_done:
                    break  # as with S3, whatever follows the file is not read
            if policy is None or file is None or sealer is None:
                raise Refused(400, "the form has no file")
            if not form.file_done:
                raise Refused(400, "the upload ended before the file did")
            if form.file_bytes == 0:
                raise Refused(400, f"the file must be between 1 and {policy.max_bytes} bytes")
            await asyncio.to_thread(sealer.finish)
            await asyncio.to_thread(file.close)
            # like S3, the store keeps the form's Content-Type field, not the file part's header
            await asyncio.to_thread(self._store, policy, incoming, self.keys.wrap(data_key))
            return policy.key
        finally:
            if receiving:
                self._receiving -= 1
            if file is not None:
                await asyncio.to_thread(_drop, file, incoming)

    async def open_download(self, query: Mapping[str, str]) -> Download:
        """The file a signed, unexpired link names, once its bytes hash to the signed SHA-256."""
        params = {name: query.get(name, "") for name in ("key", "filename", "type", "sha256", "expires")}
        if not hmac.compare_digest(self._sign(urlencode(params)), query.get("signature", "")):
            raise Refused(403, "the download link is not valid")
        if not params["expires"].isdigit() or self._clock().timestamp() > int(params["expires"]):
            raise Refused(403, "the download link has expired")
        handle, size, data_key = await asyncio.to_thread(self._open_checked, params["key"], params["sha256"])
        return Download(params["filename"], params["type"], size, _read(handle, data_key))

    async def rewrap_keys(self) -> tuple[int, int]:
        """Every object's data key under the current master key, the files untouched:
        ``(re-wrapped, already under it)``."""
        return await asyncio.to_thread(self._rewrap_keys)

    # ---- the policy ------------------------------------------------------------------------

    def _admit(self, fields: Mapping[str, str]) -> _Policy:
        """The fields before the file, against the signed policy: nothing of the file is read
        before this passes."""
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
        if _meta(self._path(policy["key"])).exists():
            raise Refused(409, "this ticket's file was already uploaded: ask for a new ticket")
        return _Policy(str(policy["key"]), str(policy["contentType"]), int(policy["maxBytes"]))

    def _sign(self, message: str) -> str:
        return _b64(hmac.new(self._secret, message.encode(), hashlib.sha256).digest())

    # ---- disk --------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise Refused(400, "not a valid key")
        return self.root / key

    def _claim(self, path: Path, content_type: str, encryption: Mapping[str, Any] | None) -> None:
        """Takes a key for good: its metadata file is created only if absent (O_EXCL), so of two
        writers one wins and the other is refused, and a key once taken is never written again."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with _meta(path).open("x") as meta:
                stored: dict[str, Any] = {"contentType": content_type}
                if encryption is not None:
                    stored["encryption"] = dict(encryption)
                json.dump(stored, meta)
        except FileExistsError:
            raise Refused(409, "this ticket's file was already uploaded: ask for a new ticket") from None

    def _store(self, policy: _Policy, incoming: Path, encryption: Mapping[str, Any]) -> None:
        path = self._path(policy.key)
        self._claim(path, policy.content_type, encryption)
        os.replace(incoming, path)  # readers see the whole file or none

    def _seal(self, upload_key: str, key: str) -> StoredFile | None:
        source, target = self._path(upload_key), self._path(key)
        if not source.is_file():
            return None
        meta = json.loads(_meta(source).read_text())
        self._claim(target, meta["contentType"], meta.get("encryption"))
        try:
            os.link(source, target)  # the same bytes and time; the upload's key is never rewritten
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            shutil.copy2(source, target)
        return self._inspect(key)

    def _read_plain(self, key: str) -> bytes | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta = json.loads(_meta(path).read_text()) if _meta(path).is_file() else {}
        with path.open("rb") as f:
            return b"".join(_plain(f, self._data_key(meta)))

    def _write(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        data_key = new_data_key()
        self._claim(path, content_type, self.keys.wrap(data_key))
        draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        with draft.open("xb") as f:
            sealer = EncryptingWriter(f, data_key)
            sealer.write(data)
            sealer.finish()
        os.replace(draft, path)
        return hashlib.sha256(data).hexdigest()

    def _inspect(self, key: str) -> StoredFile | None:
        path = self._path(key)
        if not path.is_file():
            return None
        meta = json.loads(_meta(path).read_text())
        with path.open("rb") as f:
            digest, size, head = _measure(_plain(f, self._data_key(meta)))
        return StoredFile(
            size_bytes=size,
            content_type=meta["contentType"],
            sha256=digest,
            head=head,
            stored_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        )

    def _data_key(self, meta: Mapping[str, Any]) -> bytes | None:
        encryption = meta.get("encryption")
        if encryption is None:
            return None  # stored before encryption at rest
        try:
            return self.keys.unwrap(encryption)
        except Undecryptable:
            raise Refused(500, "the stored file's key cannot be unwrapped with the configured master keys") from None

    def _open_checked(self, key: str, sha256: str) -> tuple[IO[bytes], int, bytes | None]:
        path = self._path(key)
        if not path.is_file():
            raise Refused(404, "no such file")
        data_key = self._data_key(json.loads(_meta(path).read_text()))
        handle = path.open("rb")
        try:
            try:
                digest, size, _ = _measure(_plain(handle, data_key))
            except Undecryptable:
                digest, size = "", 0
            if not hmac.compare_digest(digest, sha256):
                raise Refused(500, "the stored file does not match its recorded checksum")
            handle.seek(0)
        except BaseException:
            handle.close()
            raise
        return handle, size, data_key

    def _rewrap_keys(self) -> tuple[int, int]:
        rewrapped = unchanged = 0
        for meta_path in sorted(self.root.rglob("*.meta.json")):
            if INCOMING in meta_path.relative_to(self.root).parts:
                continue
            meta = json.loads(meta_path.read_text())
            encryption = meta.get("encryption")
            fresh = self.keys.rewrap(encryption) if encryption is not None else None
            if fresh is None:
                unchanged += 1
                continue
            draft = meta_path.with_name(f".{meta_path.name}.{secrets.token_hex(4)}")
            draft.write_text(json.dumps({**meta, "encryption": fresh}))
            os.replace(draft, meta_path)  # the key stays claimed: the file is replaced whole
            rewrapped += 1
        return rewrapped, unchanged


class _Form:
    """A multipart/form-data body fed as it arrives: the text fields before the file part, then
    the file's bytes, held until written. python-multipart calls back while it parses a chunk;
    the callbacks only note what they saw, and ``feed`` handles it once the chunk is parsed."""

    def __init__(self, boundary: bytes) -> None:
        self.fields: dict[str, str] = {}
        self.file_begun = self.file_done = False
        self.file_bytes = self.pending_bytes = 0
        self._pending: list[bytes] = []
        self._read_before_file = 0
        self._seen: list[tuple[str, bytes]] = []
        self._part: Literal["field", "file", "skip"] | None = None
        self._name = ""
        self._headers: dict[bytes, bytes] = {}
        self._header = (b"", b"")
        self._value = bytearray()

        def note(kind: str) -> Callable[..., None]:
            def callback(data: bytes | None = None, start: int = 0, end: int = 0) -> None:
                self._seen.append((kind, b"" if data is None else data[start:end]))

            return callback

        kinds = ("part_begin", "header_field", "header_value", "header_end", "headers_finished")
        callbacks: Any = {f"on_{kind}": note(kind) for kind in (*kinds, "part_data", "part_end")}
        self._parser = MultipartParser(boundary, callbacks, max_header_count=4, max_header_size=1024)

    def feed(self, chunk: bytes) -> bool:
        """Parses one chunk; True when the file part's headers were in it (the file's bytes that
        came with them are held, not yet written)."""
        if not self.file_begun:
            if self._read_before_file > FORM_OVERHEAD:
                raise Refused(400, "the form's fields are too large")
            self._read_before_file += len(chunk)
        try:
            self._parser.write(chunk)
        except FormParserError:
            raise Refused(400, "the form could not be read") from None
        begun = False
        seen, self._seen = self._seen, []
        for kind, data in seen:
            if kind == "part_begin":
                self._headers, self._header, self._value = {}, (b"", b""), bytearray()
            elif kind == "header_field":
                self._header = (self._header[0] + data, self._header[1])
            elif kind == "header_value":
                self._header = (self._header[0], self._header[1] + data)
            elif kind == "header_end":
                self._headers[self._header[0].lower()] = self._header[1]
                self._header = (b"", b"")
            elif kind == "headers_finished":
                begun = self._begin_part() or begun
            elif kind == "part_data":
                self._data(data)
            elif kind == "part_end":
                self._end_part()
        return begun

    def take_pending(self) -> bytes:
        data = b"".join(self._pending)
        self._pending, self.pending_bytes = [], 0
        return data

    def _begin_part(self) -> bool:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("latin-1")
        if self.file_begun:
            self._part = "skip"  # as with S3, fields after the file are ignored
        elif name == "file":
            self._part, self.file_begun = "file", True
            return True
        elif len(self.fields) >= MAX_FIELDS:
            raise Refused(400, "the form has too many fields")
        else:
            self._part, self._name = "field", name
        return False

    def _data(self, data: bytes) -> None:
        if self._part == "file":
            self.file_bytes += len(data)
            self.pending_bytes += len(data)
            self._pending.append(data)
        elif self._part == "field":
            self._value += data
            if len(self._value) > MAX_FIELD_BYTES:
                raise Refused(400, "a form field is too large")

    def _end_part(self) -> None:
        if self._part == "file":
            self.file_done = True
        elif self._part == "field":
            try:
                self.fields[self._name] = self._value.decode()
            except UnicodeDecodeError:
                raise Refused(400, "a form field is not UTF-8") from None
        self._part = None


def _plain(f: IO[bytes], data_key: bytes | None) -> Iterator[bytes]:
    """The object's plaintext a chunk at a time: decrypted, or as stored before encryption."""
    if data_key is not None:
        yield from decrypted_chunks(f, data_key)
        return
    while chunk := f.read(READ_CHUNK):
        yield chunk


def _measure(chunks: Iterator[bytes]) -> tuple[str, int, bytes]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    for chunk in chunks:
        if len(head) < 16:
            head += chunk[: 16 - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size, head


def _create(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("xb")


def _drop(file: IO[bytes], path: Path) -> None:
    """After an upload, stored or refused: its incoming file is closed and gone."""
    file.close()
    path.unlink(missing_ok=True)


async def _read(handle: IO[bytes], data_key: bytes | None) -> AsyncIterator[bytes]:
    """Streams the plaintext; checked whole before the first byte went out (``_open_checked``),
    so a frame failing now means the file changed since: the response is cut short."""
    chunks = _plain(handle, data_key)
    try:
        while chunk := await asyncio.to_thread(next, chunks, b""):
            yield chunk
    finally:
        handle.close()

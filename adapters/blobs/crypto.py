"""Encryption at rest for the local blob store: AES-256-GCM, a data key per object, wrapped by a
master key.

An object's file is a header (``MAGIC`` and a random 7-byte nonce prefix) and frames of at most
``CHUNK`` plaintext bytes, each sealed on its own (nonce: the prefix, the frame's number, and a
flag set on the last frame only), so a download decrypts as it streams and a truncated, cut or
reordered file fails to decrypt. The data key, wrapped (AES-GCM) by a master key, lives in the
object's metadata file with the master key's id: rotation re-wraps the data keys under a new
master key and never rewrites an object.

Master keys come from ``BLOB_ENCRYPTION_KEYS`` (``id:base64key`` pairs, comma separated, the
first one current; production requires it); without it, outside production, from a keyring
file under the data folder, made on first use.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger("hrgraph.blobs")

ALGORITHM = "AES-256-GCM/64KiB-frames"
CHUNK = 64 * 1024
TAG = 16
MAGIC = b"HRGE1"
PREFIX_BYTES = 7
HEADER = len(MAGIC) + PREFIX_BYTES
KEYRING_FILE = "blob-keys.json"
WRAP_AAD = b"hrgraph-blob-data-key"


class Undecryptable(Exception):
    """The bytes on disk are not what was encrypted (changed, cut, or another key's)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


@dataclass(frozen=True)
class MasterKeys:
    """Master keys by id; ``current`` wraps new data keys, the others stay readable."""

    keys: Mapping[str, bytes]
    current: str
    missing: str | None = None
    """Why there are no keys (production without the setting): every use raises it."""

    @classmethod
    def none(cls, why: str) -> MasterKeys:
        """No keys: a process that never touches a file still starts (a worker, a test); serving
        refuses earlier (``Settings.missing_for_production``), and any use raises ``why``."""
        return cls({}, "", missing=why)

    def __post_init__(self) -> None:
        if self.missing is not None:
            return
        if self.current not in self.keys:
            raise ValueError("the current master key is not in the keyring")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"master key {key_id!r} must be 32 bytes (AES-256), it has {len(key)}")

    @classmethod
    def parse(cls, setting: str) -> MasterKeys:
        """``id:base64key,id2:base64key``: the first is current."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in setting.split(",")):
            key_id, sep, encoded = part.partition(":")
            if not sep or not key_id or key_id in keys:
                raise ValueError("BLOB_ENCRYPTION_KEYS is id:base64key pairs, comma separated, each id once")
            try:
                keys[key_id] = _unb64(encoded)
            except ValueError:
                raise ValueError(f"BLOB_ENCRYPTION_KEYS: the key of {key_id!r} is not base64") from None
        if not keys:
            raise ValueError("BLOB_ENCRYPTION_KEYS is empty")
        return cls(keys, next(iter(keys)))

    @classmethod
    def development(cls, data_dir: Path) -> MasterKeys:
        """The keyring under ``data_dir``, made (with one key) on first use."""
        path = data_dir / KEYRING_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            draft = data_dir / f".{KEYRING_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            key_id = new_key_id()
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                json.dump({"current": key_id, "keys": {key_id: _b64(AESGCM.generate_key(256))}}, file)
            try:
                os.link(draft, path)  # another process made it first: theirs wins
                log.warning(
                    "generated a development master key for the local blob store in %s;"
                    " production requires BLOB_ENCRYPTION_KEYS",
                    path,
                )
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        stored = json.loads(path.read_text())
        return cls({k: _unb64(v) for k, v in stored["keys"].items()}, stored["current"])

    def with_new_key(self) -> MasterKeys:
        key_id = new_key_id()
        return MasterKeys({**self.keys, key_id: AESGCM.generate_key(256)}, key_id)

    def save_development(self, data_dir: Path) -> None:
        path = data_dir / KEYRING_FILE
        draft = path.with_name(f".{KEYRING_FILE}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            json.dump({"current": self.current, "keys": {k: _b64(v) for k, v in self.keys.items()}}, file)
        os.replace(draft, path)

    # ---- data keys -------------------------------------------------------------------------

    def _require(self) -> None:
        if self.missing is not None:
            raise RuntimeError(self.missing)

    def wrap(self, data_key: bytes) -> dict[str, Any]:
        self._require()
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(self.keys[self.current]).encrypt(nonce, data_key, WRAP_AAD)
        return {"alg": ALGORITHM, "keyId": self.current, "nonce": _b64(nonce), "wrappedKey": _b64(wrapped)}

    def unwrap(self, record: Mapping[str, Any]) -> bytes:
        self._require()
        key = self.keys.get(str(record.get("keyId")))
        if key is None:
            raise Undecryptable(f"master key {record.get('keyId')!r} is not configured")
        try:
            return AESGCM(key).decrypt(_unb64(record["nonce"]), _unb64(record["wrappedKey"]), WRAP_AAD)
        except (InvalidTag, KeyError, ValueError):
            raise Undecryptable("the data key does not unwrap") from None

    def rewrap(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The record under the current master key; None when it already is."""
        if record.get("keyId") == self.current:
            return None
        return self.wrap(self.unwrap(record))


def new_key_id() -> str:
    return f"k{secrets.token_hex(4)}"


def new_data_key() -> bytes:
    return AESGCM.generate_key(256)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """Writes plaintext as it comes into frames on ``file``; ``finish`` seals the last one."""

    def __init__(self, file: IO[bytes], data_key: bytes) -> None:
        self._file = file
        self._aead = AESGCM(data_key)
        self._prefix = secrets.token_bytes(PREFIX_BYTES)
        self._index = 0
        self._pending = bytearray()
        file.write(MAGIC + self._prefix)

    def write(self, data: bytes) -> None:
        self._pending += data
        # a full frame is sealed only once more follows: the last one carries the flag
        while len(self._pending) > CHUNK:
            self._frame(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]

    def finish(self) -> None:
        self._frame(bytes(self._pending), last=True)
        self._pending.clear()

    def _frame(self, plain: bytes, *, last: bool) -> None:
        if self._index >= 2**32 - 1:
            raise ValueError("the object is too large for its nonce space")
        self._file.write(self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, None))
        self._index += 1


def decrypted_chunks(handle: IO[bytes], data_key: bytes) -> Iterator[bytes]:
    """The plaintext, a frame at a time (``Undecryptable`` at the first frame that fails)."""
    header = handle.read(HEADER)
    if len(header) != HEADER or not header.startswith(MAGIC):
        raise Undecryptable("not an encrypted object")
    prefix, aead, index = header[len(MAGIC) :], AESGCM(data_key), 0
    frame = handle.read(CHUNK + TAG)
    while True:
        following = handle.read(CHUNK + TAG) if len(frame) == CHUNK + TAG else b""
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, index, last), frame, None)
        except InvalidTag:
            raise Undecryptable("a frame does not decrypt") from None
        if last:
            return
        frame, index = following, index + 1

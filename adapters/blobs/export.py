"""The blob store as a person's data export needs it (the privacy context's ``ArchiveStore``):
the files read decrypted, the archive written encrypted at rest, and the store's own signed,
short-lived download link to it (the local store's signature, or S3's presigned GET)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domains.document.ports import DownloadRequest


class ArchiveFiles:
    def __init__(self, store: Any) -> None:
        self.store = store  # a LocalBlobStore or an S3BlobStore: both read, write and presign

    async def read(self, key: str) -> bytes | None:
        data: bytes | None = await self.store.read(key)
        return data

    async def write(self, key: str, data: bytes, content_type: str) -> str:
        digest: str = await self.store.write(key, data, content_type)
        return digest

    def link(self, key: str, file_name: str, content_type: str, sha256: str, expires_at: datetime) -> str:
        url: str = self.store.presign_download(DownloadRequest(key, file_name, content_type, sha256, expires_at))
        return url


__all__ = ["ArchiveFiles"]

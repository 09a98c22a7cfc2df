"""Deleting a person's files for good (the privacy context's ``FileEraser``), in both stores.

S3: every object under the prefix and, in a bucket that keeps versions, every version and
delete marker (``ListObjectVersions``), so nothing is left to restore. The local store: every
file under the prefix's folder, with its metadata.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from adapters.blobs.local import LocalBlobStore

META_SUFFIX = ".meta.json"


class LocalFileEraser:
    def __init__(self, store: LocalBlobStore) -> None:
        self.root = store.root

    async def erase(self, prefix: str) -> int:
        return await asyncio.to_thread(self._erase, prefix)

    def _erase(self, prefix: str) -> int:
        if ".." in prefix or prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError(f"not a folder prefix: {prefix!r}")
        folder = self.root / prefix
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.endswith(META_SUFFIX))
        shutil.rmtree(folder, ignore_errors=False)
        return count


class S3FileEraser:
    def __init__(self, store: Any) -> None:
        self.store = store  # an S3BlobStore: its client and bucket

    async def erase(self, prefix: str) -> int:
        bucket = self.store.settings.bucket
        count = 0
        async with self.store._client() as s3:
            paginator = s3.get_paginator("list_object_versions")
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                doomed = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in (*page.get("Versions", ()), *page.get("DeleteMarkers", ()))
                ]
                count += sum(1 for v in page.get("Versions", ()) if v.get("IsLatest"))
                for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1,000
                    await s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000]})
        return count


def file_eraser(store: Any) -> LocalFileEraser | S3FileEraser:
    if isinstance(store, LocalBlobStore):
        return LocalFileEraser(store)
    return S3FileEraser(store)


__all__ = ["LocalFileEraser", "S3FileEraser", "file_eraser"]

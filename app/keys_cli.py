"""``python -m app keys rotate``: every object key of the local blob store re-wrapped under a
new master key, the files themselves untouched.

With ``BLOB_ENCRYPTION_KEYS`` set, the new master key is its first one (the operator puts the
new key first and keeps the old ones after it until this has run). Without it (development),
a new key joins the keyring under the data folder and becomes current; the old ones stay, so
a server started before the rotation still reads and writes until it restarts.
"""

from __future__ import annotations

import asyncio
import sys

from adapters.blobs.crypto import KEYRING_FILE, MasterKeys
from adapters.blobs.local import LocalBlobStore
from app.settings import Settings


def rotate(settings: Settings) -> int:
    if not settings.local_blobs:
        print(
            "keys: S3 encrypts the objects itself (SSE-KMS with S3_KMS_KEY_ID, else SSE-S3):"
            " rotate the KMS key in AWS KMS; nothing to re-wrap here"
        )
        return 0
    if settings.blob_encryption_keys:
        keys = MasterKeys.parse(settings.blob_encryption_keys)
        where = "BLOB_ENCRYPTION_KEYS' first key"
    elif settings.production:
        print("keys: production needs BLOB_ENCRYPTION_KEYS (the new master key first)", file=sys.stderr)
        return 1
    else:
        keys = MasterKeys.development(settings.data_dir).with_new_key()
        keys.save_development(settings.data_dir)  # first: the old keys stay in it, nothing becomes unreadable
        where = f"a new key in {settings.data_dir / KEYRING_FILE}"
    store = LocalBlobStore(settings.data_dir / "blobs", settings.blob_base_url, b"unused: no link is signed", keys=keys)
    rewrapped, unchanged = asyncio.run(store.rewrap_keys())
    print(f"keys: {rewrapped} object keys re-wrapped under {keys.current} ({where}); {unchanged} already were")
    return 0

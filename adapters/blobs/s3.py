"""The S3 blob store: AWS S3 or any S3 API (MinIO, R2, moto) at a configurable endpoint.

Presigning is pure computation, done by a plain botocore client without I/O; reading an object
goes through aioboto3. The POST policy fixes the exact key (botocore adds ``{"key": …}``), the
exact content type and the length range; S3 enforces it, and confirm re-checks the object anyway.

A POST policy cannot stop a second POST to its key before it expires, so an upload's key is
never what is served: confirm copies the object to a key no ticket names (``seal``) and the
recorded SHA-256 is the copy's. Download links set the attachment name and the stored type;
S3 cannot add ``X-Content-Type-Options`` or ``Content-Security-Policy`` to a response (a CDN
in front can, see README).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aioboto3
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters.blobs.downloads import attachment
from domains.document.model import StoredFile
from domains.document.ports import DownloadRequest, UploadPolicy, UploadTicket


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    kms_key_id: str | None = None
    """Uploads must ask for SSE-KMS with this key; None: SSE-S3 (AES256)."""

    def encryption_fields(self) -> dict[str, str]:
        """The form fields (and equal policy conditions) an upload must carry: S3 refuses a
        POST without them, so no object lands unencrypted or under another key."""
        if self.kms_key_id:
            return {
                "x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id,
            }
        return {"x-amz-server-side-encryption": "AES256"}

    def copy_encryption(self) -> dict[str, str]:
        """The same encryption for the sealed copy (a copy takes the bucket's default otherwise)."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class S3BlobStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        credentials: dict[str, Any] = {"region_name": settings.region}
        if settings.access_key_id and settings.secret_access_key:
            credentials["aws_access_key_id"] = settings.access_key_id
            credentials["aws_secret_access_key"] = settings.secret_access_key
        # Path-style URLs for a custom endpoint: a bucket name needs no DNS entry there.
        addressing = {"addressing_style": "path"} if settings.endpoint_url else {}
        self._config = Config(signature_version="s3v4", s3=addressing)
        self._session = aioboto3.Session(**credentials)
        self._signer = boto3.session.Session(**credentials).client(
            "s3", endpoint_url=settings.endpoint_url, config=self._config
        )

    def _client(self) -> Any:
        return self._session.client("s3", endpoint_url=self.settings.endpoint_url, config=self._config)

    async def presign_upload(self, policy: UploadPolicy) -> UploadTicket:
        encryption = self.settings.encryption_fields()
        post = self._signer.generate_presigned_post(
            Bucket=self.settings.bucket,
            Key=policy.key,
            Fields={"Content-Type": policy.content_type, **encryption},
            Conditions=[
                {"Content-Type": policy.content_type},
                *({name: value} for name, value in encryption.items()),
                ["content-length-range", 1, policy.max_bytes],
            ],
            ExpiresIn=_seconds_until(policy.expires_at),
        )
        return UploadTicket(url=post["url"], fields=tuple(post["fields"].items()), expires_at=policy.expires_at)

    async def inspect(self, key: str) -> StoredFile | None:
        async with self._client() as s3:
            try:
                found = await s3.get_object(Bucket=self.settings.bucket, Key=key)
            except ClientError as error:
                if _missing(error):
                    return None
                raise
            digest = hashlib.sha256()
            size = 0
            head = b""
            body = found["Body"]
            try:
                while chunk := await body.read(1 << 16):
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    digest.update(chunk)
                    size += len(chunk)
            finally:
                body.close()
        return StoredFile(
            size_bytes=size,
            content_type=found.get("ContentType", ""),
            sha256=digest.hexdigest(),
            head=head,
            stored_at=found["LastModified"],
        )

    async def seal(self, upload_key: str, key: str) -> StoredFile | None:
        bucket = self.settings.bucket
        async with self._client() as s3:
            try:
                uploaded = await s3.head_object(Bucket=bucket, Key=upload_key)
                # the object whose time was read, or nothing (a POST in between fails the copy)
                await s3.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": bucket, "Key": upload_key},
                    CopySourceIfMatch=uploaded["ETag"],
                    MetadataDirective="COPY",
                    **self.settings.copy_encryption(),
                )
            except ClientError as error:
                if _missing(error):
                    return None
                raise
            # The upload stays (a concurrent confirm may be copying it too): a later POST with its
            # ticket lands there, beside what is served; a lifecycle rule on uploads/ clears them.
        sealed = await self.inspect(key)
        return None if sealed is None else replace(sealed, stored_at=uploaded["LastModified"])

    async def read(self, key: str) -> bytes | None:
        async with self._client() as s3:
            try:
                found = await s3.get_object(Bucket=self.settings.bucket, Key=key)
            except ClientError as error:
                if _missing(error):
                    return None
                raise
            body = found["Body"]
            try:
                content: bytes = await body.read()
            finally:
                body.close()
        return content

    async def write(self, key: str, data: bytes, content_type: str) -> str:
        """Stores ``data`` at ``key`` with the bucket's server-side encryption (an export's
        archive); its SHA-256."""
        async with self._client() as s3:
            await s3.put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                **self.settings.copy_encryption(),
            )
        return hashlib.sha256(data).hexdigest()

    async def discard(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.settings.bucket, Key=key)

    def presign_download(self, request: DownloadRequest) -> str:
        url: str = self._signer.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.settings.bucket,
                "Key": request.key,
                "ResponseContentDisposition": attachment(request.file_name),
                "ResponseContentType": request.content_type,
            },
            ExpiresIn=_seconds_until(request.expires_at),
        )
        return url

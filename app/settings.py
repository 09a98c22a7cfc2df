"""Settings from the environment (and a ``.env`` file), with development defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # long enough for HS256 (RFC 7518 §3.2)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    data_dir: Path = ROOT / ".data"
    database_pool_size: int = 10

    jwt_secret: str | None = None
    jwks_url: str | None = None
    jwt_issuer: str = "hr-graph"
    jwt_audience: str = "hr-graph"

    page_default: int = 20
    page_max: int = 100
    max_body_bytes: int = 1_000_000
    log_level: str = "INFO"

    event_retention_hours: float = 24 * 7
    """How long the outbox keeps events; a subscription may resume within it."""
    shutdown_timeout_seconds: float = 10.0
    """On SIGTERM, open sockets are closed and the process exits within about this long."""
    # Blobs: the local store under data_dir/blobs (served by the app at public_url) unless
    # S3_BUCKET is set; then S3 (AWS, or any S3 API at S3_ENDPOINT_URL).
    public_url: str = "http://127.0.0.1:8000"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    blob_secret: str | None = None
    upload_expiry_seconds: int = 600
    download_expiry_seconds: int = 300

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def secret(self) -> str | None:
        if self.jwt_secret or self.jwks_url:
            return self.jwt_secret
        if self.production:
            raise RuntimeError("production needs JWKS_URL (or JWT_SECRET)")
        return DEV_SECRET

    @property
    def blob_signing_secret(self) -> bytes:
        """Signs the local store's upload and download links (the store derives its own key)."""
        secret = self.blob_secret or self.jwt_secret
        if secret:
            return secret.encode()
        if self.production:
            raise RuntimeError("production with the local blob store needs BLOB_SECRET (or JWT_SECRET)")
        return DEV_SECRET.encode()

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

    # GRAPHIQL, INTROSPECTION: unset means on outside production and off in production.
    graphiql: bool | None = None
    introspection: bool | None = None

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return not self.production if self.introspection is None else self.introspection

    def missing_for_production(self) -> list[str]:
        """The settings production cannot start without, as the operator would set them."""
        if not self.production:
            return []
        missing = [] if self.database_url else ["DATABASE_URL"]
        if not (self.jwks_url or self.jwt_secret):
            missing.append("JWKS_URL (or JWT_SECRET)")
        return missing

    @property
    def secret(self) -> str | None:
        if self.jwt_secret or self.jwks_url:
            return self.jwt_secret
        if self.production:
            raise RuntimeError("production needs JWKS_URL (or JWT_SECRET)")
        return DEV_SECRET

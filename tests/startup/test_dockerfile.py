"""The Dockerfile documents every setting the service reads and checks its health."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
NOT_FOR_OPERATORS = {"app_env", "data_dir", "max_body_bytes"}  # set by the image, or the dev default


def test_every_setting_is_documented() -> None:
    header = "\n".join(line for line in DOCKERFILE.splitlines() if line.startswith("#"))
    for name in Settings.model_fields:
        if name not in NOT_FOR_OPERATORS:
            assert name.upper() in header, f"{name.upper()} is not documented in the Dockerfile"
    required = {m.group(1) for m in re.finditer(r"#\s+required\s+([A-Z_]+)", header)}
    assert required == {"DATABASE_URL", "JWKS_URL"}
    assert "or JWT_SECRET" in header
    bare = Settings(app_env="production", database_url=None, jwks_url=None, jwt_secret=None, _env_file=None)  # type: ignore[call-arg]
    missing = bare.missing_for_production()
    assert missing == [
        "DATABASE_URL",
        "JWKS_URL (or JWT_SECRET)",
        "PUBLIC_URL (or S3_BUCKET)",
        "BLOB_SECRET (or JWT_SECRET, or S3_BUCKET)",
        "BLOB_ENCRYPTION_KEYS (or S3_BUCKET)",
    ]
    assert bare.missing_for_production(serving=False) == ["DATABASE_URL"]  # `python -m app migrate`
    local_store = header[header.index("without S3_BUCKET") :]
    assert "PUBLIC_URL" in local_store and "BLOB_SECRET" in local_store and "BLOB_ENCRYPTION_KEYS" in local_store


def test_it_runs_production_with_a_health_check() -> None:
    assert "APP_ENV=production" in DOCKERFILE
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", DOCKERFILE, flags=re.MULTILINE)
    assert 'CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8000"]' in DOCKERFILE


def test_the_runtime_image_has_the_libraries_opencv_loads() -> None:
    """rapidocr-onnxruntime pulls opencv-python, whose import needs libGL and GLib, which
    python:3.11-slim lacks: without them every analysis job would fail in the image."""
    lock = (ROOT / "requirements.lock").read_text()
    runtime = DOCKERFILE[DOCKERFILE.index("AS runtime") :]
    if "opencv-python==" in lock:
        assert re.search(r"apt-get install [^\n]*libgl1[^\n]*libglib2\.0-0", runtime)

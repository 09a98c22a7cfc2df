"""Cold start (issue 10): a process imports only what its first request needs.

Timings flake on a shared machine; which modules a fresh interpreter has loaded does not. Each
check runs in its own interpreter, since this test process has long imported everything.
``python -m bench.coldstart`` measures the time itself (BENCHMARKS.md, "Cold start").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Heavy and not needed to answer a request on the local blob store: the S3 stack (aioboto3
# pulls aiobotocore, aiohttp, boto3 and botocore: more than the rest of the app's imports
# together), the migration and embedded-database tools, the S3 test server.
# The document analyzer (OCR, PDF text, onnxruntime, OpenCV, numpy) loads in workers only, on
# the first file it reads.
ANALYZER = ("rapidocr_onnxruntime", "onnxruntime", "cv2", "numpy", "pypdf", "PIL")
NOT_FOR_A_REQUEST = (
    "aioboto3", "aiobotocore", "aiohttp", "boto3", "botocore", "alembic", "pgserver", "moto", *ANALYZER
)
# The job queue and what its jobs use (workers import them, `python -m app worker`): procrastinate
# and psycopg (its connector), the webhook sender's signatures and HTTP client, SMTP, croniter.
JOBS_ONLY = ("procrastinate", "psycopg", "psycopg_pool", "standardwebhooks", "httpx", "aiosmtplib", "croniter")
# Modules (not packages) a request does not need: reading mails (only /dev/mail does).
MODULES_NOT_FOR_A_REQUEST = ("email.policy", "email.headerregistry")

# The app as the Lambda entry and the server build it, with production settings and no I/O:
# the engine connects on first use, and nothing here uses it.
BUILD_APP = """
import json, sys
from app.http import create_app
from app.settings import Settings
from app.wiring import Container

settings = Settings(_env_file=None)
container = Container.build(settings, settings.database_url)
create_app(container)
print(json.dumps({"blobs": type(container.blobs).__name__, "modules": sorted(sys.modules)}))
"""

ENV = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    "JWT_SECRET": "cold-start-test-secret-0123456789abcdef",
}


def run(program: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON object the program prints last, run in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_")) and k not in ENV}
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**clean, **ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


def packages(answer: dict[str, Any]) -> set[str]:
    """The top-level packages among the modules the program had loaded."""
    return {name.split(".")[0] for name in answer["modules"]}


@pytest.mark.parametrize("module", ["app.http", "app.lambda_handler", "app.cli"])
def test_importing_an_entry_loads_nothing_a_request_does_not_need(module: str) -> None:
    program = f"import json, sys, {module}; print(json.dumps({{'modules': sorted(sys.modules)}}))"
    answer = run(program)
    loaded = packages(answer)
    assert module.split(".")[0] in loaded  # the program did import it
    assert loaded.isdisjoint(NOT_FOR_A_REQUEST), sorted(loaded & set(NOT_FOR_A_REQUEST))
    assert loaded.isdisjoint(JOBS_ONLY), sorted(loaded & set(JOBS_ONLY))
    assert set(answer["modules"]).isdisjoint(MODULES_NOT_FOR_A_REQUEST)


def test_the_built_app_on_the_local_store_loads_no_s3_stack_nor_a_server() -> None:
    built = run(BUILD_APP)
    assert built["blobs"] == "LocalBlobStore"
    loaded = packages(built)
    assert {"strawberry", "sqlalchemy", "starlette"} <= loaded
    # uvicorn (with click) is the server's: the Lambda entry builds the same app without it.
    refused = {*NOT_FOR_A_REQUEST, *JOBS_ONLY, "uvicorn", "click", "watchfiles"}
    assert loaded.isdisjoint(refused), sorted(loaded & refused)
    assert set(built["modules"]).isdisjoint(MODULES_NOT_FOR_A_REQUEST)


def test_with_a_bucket_the_s3_store_is_still_built() -> None:
    """The S3 stack is imported where the S3 store is chosen, not dropped."""
    built = run(BUILD_APP, {"S3_BUCKET": "documents", "AWS_REGION": "eu-west-1"})
    assert built["blobs"] == "S3BlobStore"
    assert {"aioboto3", "boto3", "botocore"} <= packages(built)


def test_a_worker_loads_the_analyzer_only_for_its_first_file() -> None:
    """``python -m app worker`` builds its queue without the OCR stack; the first analysis loads it."""
    program = """
import json, sys
from app.settings import Settings
from app.worker import jobs_config
config = jobs_config(Settings(_env_file=None), "postgresql://nobody@127.0.0.1:1/none")
before = sorted(sys.modules)
assert config.documents is not None and config.documents.analyzer is not None
print(json.dumps({"modules": before, "after": sorted(sys.modules)}))
"""
    answer = run(program, {"APP_ENV": "development"})
    assert packages(answer).isdisjoint(ANALYZER), sorted(packages(answer) & set(ANALYZER))
    assert "adapters.analysis.embedded" not in answer["modules"]
    assert "adapters.analysis.embedded" in answer["after"]

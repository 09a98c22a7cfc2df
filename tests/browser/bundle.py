"""The web app's bundle (frontend/dist) for the browser tests: built when missing or older than
its sources (npm ci when node_modules is missing or older than the lock file, then npm run build:
codegen, tsc, vite build), each step bounded in time. Without Node.js 20+ and npm, a skip,
unless REQUIRE_BROWSER=1 (CI) makes that a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST_INDEX = FRONTEND / "dist" / "index.html"
INSTALLED = FRONTEND / "node_modules" / ".package-lock.json"
SOURCES = (
    FRONTEND / "src",
    FRONTEND / "operations",
    FRONTEND / "index.html",
    FRONTEND / "vite.config.mts",
    FRONTEND / "tsconfig.json",
    FRONTEND / "package-lock.json",
    ROOT / "schema.graphql",
    ROOT / "graphql.config.yml",
)
INSTALL_SECONDS, BUILD_SECONDS = 400, 300


def _newest(paths: tuple[Path, ...]) -> float:
    newest = 0.0
    for path in paths:
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def stale() -> bool:
    return not DIST_INDEX.exists() or DIST_INDEX.stat().st_mtime < _newest(SOURCES)


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _run(command: list[str], timeout: int) -> None:
    done = subprocess.run(command, cwd=FRONTEND, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def ensure_bundle() -> Path:
    """frontend/dist, fresh."""
    if not stale():
        return DIST_INDEX.parent
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not (npm and node):
        _unavailable("the web app's bundle needs Node.js 20 or newer with npm to build (npm is not on PATH)")
    assert npm is not None
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        _unavailable(f"the web app's bundle needs Node.js 20 or newer (this is {version})")
    lock = FRONTEND / "package-lock.json"
    if not INSTALLED.exists() or INSTALLED.stat().st_mtime < lock.stat().st_mtime:
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], INSTALL_SECONDS)
    _run([npm, "run", "--silent", "build"], BUILD_SECONDS)
    assert not stale(), "npm run build left frontend/dist older than its sources"
    return DIST_INDEX.parent

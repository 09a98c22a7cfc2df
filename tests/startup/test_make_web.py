"""`make run` builds the web app when it can: without Node.js (or with an old one, or without
npm) one line says what it needs and the API still starts; with them, a bundle older than its
sources is built again (and a fresh one is left alone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"
OLD_NODE = '#!/bin/sh\ncase "$1" in --version) echo v18.19.0;; *) exit 1;; esac\n'
NPM = "#!/bin/sh\nexit 0\n"


def _make(path: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", *args],
        cwd=ROOT,
        env={"PATH": str(path), "HOME": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("tools", [{}, {"node": OLD_NODE, "npm": NPM}], ids=["no-node", "old-node"])
def test_without_node_one_line_says_so_and_the_api_still_starts(tmp_path: Path, tools: dict[str, str]) -> None:
    for name, script in tools.items():
        (tmp_path / name).write_text(script)
        (tmp_path / name).chmod(0o755)
    built = _make(tmp_path, "web")
    assert built.returncode == 0, built.stderr
    lines = (built.stdout + built.stderr).splitlines()
    assert lines == [
        "==> the web app (/app/) is not built: it needs Node.js 20 or newer with npm"
        " (install them, then make run again); the API starts without it"
    ]
    planned = _make(tmp_path, "-n", "run")  # -n still runs the web step (it calls make)
    assert planned.returncode == 0, planned.stderr
    assert "the web app (/app/) is not built" in planned.stdout
    assert "-m app serve --dev" in planned.stdout.splitlines()[-1]


def test_a_stale_bundle_is_built_again_and_a_fresh_one_left_alone(tmp_path: Path) -> None:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("needs Node.js and npm")
    path = ":".join(str(Path(shutil.which(tool) or tool).parent) for tool in ("node", "npm", "sh"))
    bundle = ROOT / "frontend" / "dist" / "index.html"
    question = subprocess.run(
        [MAKE, "-q", "frontend/dist/index.html"], cwd=ROOT, env={"PATH": path}, capture_output=True, timeout=60
    )
    if not bundle.exists() or question.returncode != 0:
        pytest.skip("the bundle is not built and fresh here (the browser test builds it)")
    planned = _make(path, "-n", "frontend/dist/index.html")
    assert "npm run --silent build" not in planned.stdout
    planned = _make(path, "-n", "-W", "frontend/src/app/Shell.tsx", "frontend/dist/index.html")
    assert "npm run --silent build" in planned.stdout and "building the web app" in planned.stdout

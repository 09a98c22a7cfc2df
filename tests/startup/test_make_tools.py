"""`make test` and `make codegen` run Node: without it (or with an old one, or without npm) they
stop at once with one line naming the missing tool, before building anything; so does `make
test` without the tools of the README's scripts (bash, curl, jq)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"
# Stand-ins on an otherwise empty PATH: `node -e` answers the version check, `--version` prints.
OLD_NODE = '#!/bin/sh\ncase "$1" in --version) echo v18.19.0;; *) exit 1;; esac\n'
NODE_20 = '#!/bin/sh\ncase "$1" in --version) echo v20.11.0;; *) exit 0;; esac\n'
NPM = "#!/bin/sh\nexit 0\n"


@pytest.mark.parametrize(
    "goal, tools, missing",
    [
        ("test", {}, "node is not on PATH"),
        ("codegen", {"node": OLD_NODE, "npm": NPM}, "node is v18.19.0"),
        ("test", {"node": NODE_20}, "npm is not on PATH"),
    ],
    ids=["no-node", "old-node", "no-npm"],
)
def test_one_line_names_the_missing_tool(tmp_path: Path, goal: str, tools: dict[str, str], missing: str) -> None:
    for name, script in tools.items():
        (tmp_path / name).write_text(script)
        (tmp_path / name).chmod(0o755)
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-n", goal],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    assert len(lines) == 1, lines
    assert f"make {goal} needs Node.js 20 or newer and npm: {missing}" in lines[0]


def test_with_node_and_npm_nothing_is_said(tmp_path: Path) -> None:
    for name, script in {"node": NODE_20, "npm": NPM}.items():
        (tmp_path / name).write_text(script)
        (tmp_path / name).chmod(0o755)
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-n", "codegen"],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "needs Node.js" not in done.stdout + done.stderr


def test_make_test_names_a_missing_tool_of_the_readme_scripts(tmp_path: Path) -> None:
    for name, script in {"node": NODE_20, "npm": NPM}.items():
        (tmp_path / name).write_text(script)
        (tmp_path / name).chmod(0o755)
    for tool in ("bash", "curl"):
        (tmp_path / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-n", "test"],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    assert len(lines) == 1, lines
    assert "make test needs jq for the README's scripts: jq is not on PATH" in lines[0]

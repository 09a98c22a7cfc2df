"""The import rules themselves: the kernel has no circle, and ``domains`` has an allow-list."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest

from tests.import_contracts import AllowListContract, SiblingsIndependentContract

ROOT = Path(__file__).resolve().parents[2]
# Every module of the kernel, found rather than listed: a new one is checked from its first line.
KERNEL = tuple(sorted(p.stem for p in (ROOT / "domains" / "kernel").glob("*.py") if p.stem != "__init__"))


@pytest.fixture
def graph() -> grimp.ImportGraph:
    # TYPE_CHECKING imports count: a circle hidden behind one is still a circle for a reader.
    return grimp.build_graph("domains", include_external_packages=True, exclude_type_checking_imports=False)


def test_the_kernel_has_no_import_circle(graph: grimp.ImportGraph) -> None:
    modules = [f"domains.kernel.{m}" for m in KERNEL]
    circles = [
        (a, b)
        for a in modules
        for b in modules
        if a < b and graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)
    ]
    assert circles == []


def _domains_contract() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert "allowlist: tests.import_contracts.AllowListContract" in config["contract_types"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "domains-pure"]
    return dict(contract)


def _check(graph: grimp.ImportGraph) -> Any:
    options = _domains_contract()
    assert options["type"] == "allowlist"
    contract = AllowListContract(
        name=options["name"],
        session_options={},
        contract_options={k: v for k, v in options.items() if k in ("source_modules", "allowed_modules")},
    )
    return contract.check(graph, verbose=False)


def test_domains_import_only_the_standard_library_and_domains(graph: grimp.ImportGraph) -> None:
    check = _check(graph)
    assert check.kept, check.metadata


@pytest.mark.parametrize("package", ["jwt", "httpx", "pydantic", "boto3", "some_package_added_tomorrow"])
def test_any_third_party_import_in_a_domain_breaks_the_contract(graph: grimp.ImportGraph, package: str) -> None:
    graph.add_import(importer="domains.user.spec", imported=package, line_number=1, line_contents=f"import {package}")
    check = _check(graph)
    assert not check.kept
    assert [(v["importer"], v["imported"]) for v in check.metadata["violations"]] == [("domains.user.spec", package)]


def test_mypy_is_strict_on_every_package() -> None:
    """Every application package is type-checked strictly (make lint runs mypy with this config)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert config["strict"] is True
    assert set(config["files"]) == packages == {"domains", "schema", "adapters", "app"}


def _siblings_check(graph: grimp.ImportGraph) -> Any:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (options,) = [c for c in config["contracts"] if c["id"] == "domains-independent"]
    assert options["type"] == "siblings_independent"
    contract = SiblingsIndependentContract(
        name=options["name"],
        session_options={},
        contract_options={k: v for k, v in options.items() if k in ("parent", "shared")},
    )
    return contract.check(graph, verbose=False)


def test_every_context_on_disk_is_checked_without_being_listed(graph: grimp.ImportGraph) -> None:
    check = _siblings_check(graph)
    assert check.kept, check.metadata["chains"]
    on_disk = {f"domains.{p.parent.name}" for p in (ROOT / "domains").glob("*/__init__.py")} - {"domains.kernel"}
    assert set(check.metadata["siblings"]) == on_disk


def test_a_context_added_tomorrow_may_not_import_another(graph: grimp.ImportGraph) -> None:
    for module in ("domains.payroll", "domains.payroll.service"):
        graph.add_module(module)
    graph.add_import(
        importer="domains.payroll.service",
        imported="domains.document.model",
        line_number=3,
        line_contents="from domains.document.model import Document",
    )
    check = _siblings_check(graph)
    assert not check.kept
    assert [list(chain) for chain in check.metadata["chains"]] == [
        ["domains.payroll.service", "domains.document.model"]
    ]

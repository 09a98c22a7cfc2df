"""An import-linter contract type that import-linter lacks: an allow-list.

``forbidden`` contracts name what may not be imported, so a new package in the lock file is
allowed until someone remembers to list it. ``allowlist`` names what may be imported: the
standard library and the listed packages; anything else a source module imports breaks it.

Registered in pyproject.toml under ``[tool.importlinter] contract_types``.
"""

from __future__ import annotations

import sys

import grimp
from importlinter import Contract, ContractCheck, fields, output


class AllowListContract(Contract):
    """Modules in ``source_modules`` import only the standard library and ``allowed_modules``."""

    type_name = "allowlist"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        allowed = [m.name for m in self.allowed_modules]  # type: ignore[attr-defined]
        violations: list[dict[str, object]] = []
        for source in sources:
            for importer in sorted({source, *graph.find_descendants(source)}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if is_allowed(imported, allowed):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    violations.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "line_numbers": [d["line_number"] for d in details],
                        }
                    )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            lines = ", ".join(f"l.{n}" for n in violation["line_numbers"])
            output.print_error(f"{violation['importer']} imports {violation['imported']} ({lines})", bold=False)
        output.new_line()
        output.print("Only the standard library and the allowed packages may be imported here.")
        output.new_line()


def is_allowed(module: str, allowed: list[str]) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(module == a or module.startswith(f"{a}.") for a in allowed)


class IndependentChildrenContract(Contract):
    """Every sub-package of ``parent`` but the ``shared`` ones is independent of the others:
    no chain of imports from one to another. The list is found, not written: a context added
    tomorrow is checked from its first commit."""

    type_name = "independent_children"

    parent = fields.ModuleField()
    shared = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        parent = self.parent.name  # type: ignore[attr-defined]
        shared = {m.name for m in self.shared}  # type: ignore[attr-defined]
        children = sorted(
            child for child in graph.find_children(parent) if child not in shared and graph.find_children(child)
        )
        chains: list[list[str]] = []
        for importer in children:
            for imported in children:
                if importer != imported:
                    chain = graph.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
                    if chain:
                        chains.append(list(chain))
        return ContractCheck(kept=not chains, metadata={"children": children, "chains": chains})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for chain in check.metadata["chains"]:
            output.print_error(" -> ".join(chain), bold=False)
        output.new_line()
        output.print(f"These packages must not import each other: {', '.join(check.metadata['children'])}.")
        output.new_line()

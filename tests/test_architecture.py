"""The house rules on imports (docs/ARCHITECTURE.md), checked on the source, not by convention.

Data flows files -> ``geo`` -> ``analysis`` -> ``layers`` -> pages / CLI: a library package never
imports one that stands later in the flow, only the UI imports ``streamlit``, and the modules of
one package import each other without cycles.

``auth`` (sign-in, roles, audit; docs/ACCESS.md) stands beside the flow: it imports ``geo`` only,
and no library package imports it (the pages and the CLI call it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("geo", "analysis", "layers")
LATER = {
    "geo": {"analysis", "layers", "views", "cli", "app", "auth"},
    "analysis": {"layers", "views", "cli", "app", "auth"},
    "layers": {"views", "cli", "app", "auth"},
}
# Project packages ``auth`` may not import: everything of the project but ``geo`` (and itself).
AUTH_FORBIDDEN = {"analysis", "layers", "views", "cli", "app", "datagen", "bench", "tests", "streamlit"}
# Entry points that are run, never imported: they may start the CLI.
ENTRY_POINTS = {ROOT / "analysis" / "__main__.py"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported anywhere in a file (also inside functions), with line numbers."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@pytest.mark.parametrize("package", ORDER)
def test_library_packages_never_import_later_ones(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if path in ENTRY_POINTS:
            continue
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in LATER[package] or top == "streamlit":
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offences, "imports against the flow:\n" + "\n".join(offences)


def test_auth_imports_geo_only() -> None:
    offences = []
    for path in sorted((ROOT / "auth").rglob("*.py")):
        for name, line in _imports(path):
            if name.split(".")[0] in AUTH_FORBIDDEN:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offences, "auth may import geo only:\n" + "\n".join(offences)


@pytest.mark.parametrize("package", (*ORDER, "cli", "auth"))
def test_no_import_cycles_within_a_package(package: str) -> None:
    graph = nx.DiGraph()
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    for name, path in files.items():
        graph.add_node(name)
        for imported, _ in _imports(path):
            if imported in files and imported != name:
                graph.add_edge(name, imported)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert not cycles, f"import cycles in {package}/: {cycles}"


def test_the_checks_see_an_offence(tmp_path: Path) -> None:
    """The walker finds imports inside functions too (the CLI imports lazily)."""
    sample = tmp_path / "m.py"
    sample.write_text(
        "def f():\n    from layers.map import x\n    import streamlit as st\n", encoding="utf-8"
    )
    assert [n for n, _ in _imports(sample)] == ["layers.map", "streamlit"]

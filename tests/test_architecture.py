"""The three layers import in one direction only (DESIGN.md §1)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "federation": {"models", "server", "aiohttp.web", "sqlalchemy"},
    "models": {"server", "aiohttp"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(layer: str) -> list[str]:
    """`file: module` for each import that breaks the layer's rule."""
    found = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for module in imported_modules(path):
            for banned in FORBIDDEN[layer]:
                if module == banned or module.startswith(banned + "."):
                    found.append(f"{path.relative_to(ROOT)}: {module}")
    return found


def test_federation_imports_neither_models_nor_server_nor_aiohttp_web():
    assert violations("federation") == []


def test_models_never_import_server_or_http():
    assert violations("models") == []


def test_the_checker_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from server.app import create_app\nimport aiohttp.web\n")
    assert {"server.app", "server.app.create_app", "aiohttp.web"} <= imported_modules(bad)

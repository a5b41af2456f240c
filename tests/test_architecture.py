"""The three layers import in one direction only."""

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


# ---- import circles -------------------------------------------------------------------------

LAYERS = ("federation", "models", "server")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def runtime_imports(path: Path, known: set[str]) -> set[str]:
    """Project modules a file imports when it runs, at any depth (inside functions too).

    `from package import name` counts as importing `package.name` when that is a module.
    Imports under `if TYPE_CHECKING:` never run, so they are not edges.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if _is_type_checking_block(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in known}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time."""
    files = {
        _module_name(path, root): path
        for layer in LAYERS
        for path in (root / layer).rglob("*.py")
        if "migrations" not in path.parts
    }
    known = set(files)
    return {name: runtime_imports(path, known) - {name} for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_circles_anywhere_not_even_inside_functions():
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_an_import_hidden_in_a_function(tmp_path):
    package = tmp_path / "server"
    package.mkdir()
    (package / "a.py").write_text("from server.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from server import a\n    return a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from server.a import x\n"
    )
    graph = import_graph(tmp_path)
    assert circles(graph) == [["server.a", "server.b"]]
    assert graph["server.c"] == set()

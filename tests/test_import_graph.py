"""The gnas package's import graph has no cycle, and the controllers stand apart from the run loop.

An edge is an import that runs when its module is imported: module level (inside ``if``/``try``/``with``
and class bodies too), but not in a function body, which runs at call time once every module is loaded
(the package defers heavy or optional libraries that way), nor under ``if TYPE_CHECKING:``, which never
runs. Parsed with :mod:`ast`, nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import gnas

Graph = dict[str, set[str]]


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` below the package folder ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``body`` that run when the module runs."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and _type_checking(node.test):
            yield from import_time_nodes(node.orelse)
        else:  # if, try, with, for, while, match, class: their statements run now
            for field in ("body", "orelse", "finalbody"):
                yield from import_time_nodes(getattr(node, field, []))
            for clause in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
                yield from import_time_nodes(clause.body)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Every dotted name the statement may load: the module, and ``module.name`` for ``from`` imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(root: Path) -> Graph:
    """Module -> the package's modules it imports at import time."""
    modules = module_names(root)
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in import_time_nodes(tree.body):
            for target in _imported(node, name, path.name == "__init__.py"):
                parts = target.split(".")
                while parts and ".".join(parts) not in modules:
                    parts.pop()  # ``from gnas.space import Genotype``: the module gnas.space
                if parts and ".".join(parts) != name:
                    graph[name].add(".".join(parts))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: Graph, group: set[str]) -> list[str]:
    """A shortest cycle through the group's first module (breadth first, inside the group)."""
    start = min(group)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for other in sorted(graph[node] & group):
                if other == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if other not in parents:
                    parents[other] = node
                    following.append(other)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(group)}")


PACKAGE = Path(gnas.__file__).parent


def test_gnas_has_no_import_cycle() -> None:
    found = cycles(import_graph(PACKAGE))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_controllers_do_not_import_the_run_loop() -> None:
    """A controller is told results; it needs the shared vocabulary, never the driver, log or folder."""
    shared = {"gnas.search.candidate", "gnas.search.objectives", "gnas.search.settings"}
    graph = import_graph(PACKAGE)
    reached = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("gnas.search.controllers")
        for target in targets
        if target.startswith("gnas.search") and not target.startswith("gnas.search.controllers")
    }
    assert {target for _, target in reached} <= shared, sorted(reached)


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from ..c import VALUE\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import pkg.d\n"
        "try:\n    import pkg.a\nexcept ImportError:\n    pass\n"
        "def later():\n    import pkg.d\n"
    )
    (package / "d.py").write_text("import pkg.c\n")
    graph = import_graph(package)
    assert graph["pkg.c"] == {"pkg.a"}  # neither the TYPE_CHECKING nor the function-body import
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]

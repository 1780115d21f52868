"""The combinators' modules form no import cycle, counting imports inside functions
(imports only for type checking excepted): the node layer reaches the modules above it
through hooks they register (`_parser.ABOVE`, `_parser.compile_parser`)."""

from __future__ import annotations

import ast
from pathlib import Path

import wirekit.combinators

PACKAGE = Path(wirekit.combinators.__file__).parent


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports at run time (anywhere in the file)."""
    found: set[str] = set()
    skipped: set[int] = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            skipped.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        if node.module:
            found.add(node.module)
        else:
            found.update(alias.name for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("_*.py")}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycle() -> None:
    edges = graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in path, "import cycle: " + " -> ".join([*path[path.index(name) :], name])
        path.append(name)
        for other in sorted(edges[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "_m.py"
    module.write_text("def f():\n    from ._other import x\n\nif TYPE_CHECKING:\n    from ._typed import y\n")
    assert imports(module) == {"_other"}

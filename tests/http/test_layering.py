"""No module but ``_server.py`` touches a private attribute of ``ServerConnection``
(issue 15): the request side reaches its connection through ``_Link``'s named effects.

The check is static: the private names are the ones ``ServerConnection`` (with the
bases it inherits them from) uses on ``self``; another module is at fault when it
reads or writes such a name on an expression that names a connection (``conn``,
``self._conn``, ``protocol.connection``...). Names that other classes share
(``writer._out``, ``respd._handler``) are not a connection's, so they pass.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wirekit.http

PACKAGE = Path(wirekit.http.__file__).parent
SERVER = PACKAGE / "_server.py"


def private_names() -> set[str]:
    """Private attributes and methods ``ServerConnection`` uses on itself."""
    tree = ast.parse(SERVER.read_text())
    cls = next(
        n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "ServerConnection"
    )
    return {
        n.attr
        for n in ast.walk(cls)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id == "self"
        and n.attr.startswith("_")
        and not n.attr.startswith("__")
    }


def _names_a_connection(node: ast.expr) -> bool:
    last = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "conn" in last.lower()


def violations(source: str, private: set[str]) -> list[str]:
    """``expr._name`` uses in ``source`` where ``expr`` names a connection."""
    found = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in private
        and _names_a_connection(node.value)
    ]
    return [f"{node.lineno}: {ast.unparse(node)}" for node in sorted(found, key=lambda n: n.lineno)]


def test_private_names_found() -> None:
    names = private_names()
    # a few it certainly has: the request queue, the output, the reader state
    assert {"_queue", "_out", "_reader", "_link"} <= names
    assert not any(name.startswith("__") for name in names)


def test_no_module_touches_a_connection_private() -> None:
    private = private_names()
    found = {
        str(path.relative_to(PACKAGE)): bad
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != SERVER and (bad := violations(path.read_text(), private))
    }
    assert found == {}


def test_the_check_sees_a_private_use() -> None:
    source = (
        "def f(conn, self):\n"
        "    conn._queue.append(1)\n"
        "    self._conn._reader = 2\n"
        "    self.connection._out.write(b'')\n"
        "    writer._out = 3\n"
        "    conn.receive(b'')\n"
    )
    assert violations(source, {"_queue", "_reader", "_out"}) == [
        "2: conn._queue",
        "3: self._conn._reader",
        "4: self.connection._out",
    ]

"""Pages whose ```text blocks show what the ```python block before them prints: the
shown output must be exactly what the code prints (run as `test_docs` runs it: in order,
one namespace per page), so a change in a printed format (the tracer's tree, `explain`'s
report, an error message) cannot leave the page showing stale output."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Pages where every text block right after a printing python block is its output.
PAGES = [ROOT / "docs" / "guide-protocol-design.md"]
FENCE = re.compile(r"^```(python|text)\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_shown_outputs_are_printed(page: Path) -> None:
    text = page.read_text()
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    printed: str | None = None
    compared = 0
    for m in FENCE.finditer(text):
        kind, body = m.group(1), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        if kind == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"{page.name}:{line}", "exec", dont_inherit=True), namespace)
            printed = out.getvalue() or None
        elif printed is not None:
            assert body == printed, f"{page.name}:{line}: the page shows\n{body}but the code prints\n{printed}"
            compared += 1
            printed = None
    assert compared >= 5, "the page's outputs are no longer checked"

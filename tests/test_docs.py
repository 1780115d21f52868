"""Every ```python block in the docs runs, in order, one namespace per page; the blocks
that use ``@generate`` (with the blocks before them on their page) pass mypy --strict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_code_blocks_run(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(BLOCK.findall(page.read_text()), 1):
        # dont_inherit: a block runs as a reader would run it, without this file's __future__ imports
        code = compile(block, f"{page.name} block {number}", "exec", dont_inherit=True)
        exec(code, namespace)


def test_there_are_executable_pages() -> None:
    assert any(p.name == "tutorial.md" for p in PAGES)


# --------------------------------------------------------------------------------
# Typing: the docs' @generate examples are checked with the project's mypy config
# --------------------------------------------------------------------------------
TYPED_PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]
# Proves the run is strict and really reads the written files: mypy must report this.
CANARY = "def untyped(x):\n    return x\n"
CANARY_ERROR = "Function is missing a type annotation"
MYPY_LINE = re.compile(r"^(?P<file>[^:\n]+\.py):(?P<line>\d+):(?P<rest>.*)$")


def typed_module(page: Path) -> tuple[str, list[int]] | None:
    """The page's blocks up to its last one with ``@generate``, as one module (they share
    a namespace when run), and the page line of each module line; None if it has none."""
    text = page.read_text()
    blocks = [(m.group(1), text.count("\n", 0, m.start(1)) + 1) for m in BLOCK.finditer(text)]
    last = max((i for i, (code, _) in enumerate(blocks) if "@generate" in code), default=None)
    if last is None:
        return None
    lines: list[str] = []
    origin: list[int] = []
    for code, first_line in blocks[: last + 1]:
        for offset, line in enumerate(code.splitlines()):
            lines.append(line)
            origin.append(first_line + offset)
    return "\n".join(lines) + "\n", origin


def test_generate_examples_type_check(tmp_path: Path) -> None:
    origins: dict[str, tuple[str, list[int]]] = {}
    for page in TYPED_PAGES:
        module = typed_module(page)
        if module is None:
            continue
        source, origin = module
        name = "doc_" + re.sub(r"\W", "_", str(page.relative_to(ROOT).with_suffix(""))) + ".py"
        (tmp_path / name).write_text(source)
        origins[name] = (str(page.relative_to(ROOT)), origin)
    assert "doc_docs_combinators_tutorial.py" in origins, "the tutorial's @generate example is gone"
    (tmp_path / "canary.py").write_text(CANARY)
    files = sorted(str(tmp_path / name) for name in [*origins, "canary.py"])
    # One mypy run over every page, with the project's config (strict, its mypy_path).
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    canary_seen = False
    report: list[str] = []
    for line in run.stdout.splitlines():
        m = MYPY_LINE.match(line)
        if m is None:
            continue
        file = Path(m["file"]).name
        if file == "canary.py":
            canary_seen = canary_seen or CANARY_ERROR in m["rest"]
            continue
        source_page, origin = origins.get(file, (file, []))
        number = int(m["line"])
        where = origin[number - 1] if 0 < number <= len(origin) else number
        report.append(f"{source_page}:{where}:{m['rest']}")
    assert canary_seen, f"mypy did not check the files strictly:\n{run.stdout}{run.stderr}"
    assert not report, "the docs' @generate examples do not type-check:\n" + "\n".join(report)

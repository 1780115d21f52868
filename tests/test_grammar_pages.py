"""The generated grammar pages: the docs build (``mkdocs build --strict``), and every rule
labelled in the HTTP grammar's code has a section on the "HTTP grammar" page with its
ABNF, its railroad diagram and a link to the line that defines it."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTTP_GRAMMAR = ROOT / "http/src/wirekit/http/_grammar.py"
H2 = re.compile(r'<h2 id="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, run.stderr[-5000:]
    return out


def sections(page: str) -> dict[str, str]:
    """Each h2 section of a page's HTML by its anchor."""
    starts = [(m.group(1), m.start()) for m in H2.finditer(page)]
    ends = [s for _, s in starts[1:]] + [len(page)]
    return {anchor: page[start:end] for (anchor, start), end in zip(starts, ends, strict=True)}


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def rule_name(label: str) -> str:
    return "-".join(p for p in re.split(r"[^A-Za-z0-9-]+|-", label) if p)


def test_every_labelled_http_rule_has_its_diagram(site: Path) -> None:
    source = HTTP_GRAMMAR.read_text()
    lines = source.splitlines()
    labels = set(re.findall(r'\.desc\(\s*"([^"]+)"\s*\)', source))
    assert {"request-line", "method", "request-target", "field-line", "field-value", "chunk-size"} <= labels
    page = sections((site / "http/grammar/index.html").read_text())
    for label in sorted(labels):
        name = rule_name(label)
        section = page.get(name.lower())
        assert section is not None, f"no section for {label!r}"
        # Its ABNF, then its diagram, then the link to its code.
        parts = re.split(r"(<svg\b.*?</svg>)", section, maxsplit=1, flags=re.S)
        assert len(parts) == 3, f"no diagram under {name}"
        before_svg, svg, after = parts
        assert re.search(rf"^{re.escape(name)} = ", text_of(before_svg), re.M), name
        assert "railroad-diagram" in svg
        line = int(re.search(r'href="#L-(\d+)"', after).group(1))  # type: ignore[union-attr]
        # The statement starting at that line labels it (whitespace aside: a call may wrap).
        statement = "".join("".join(lines[line - 1 : line + 12]).split())
        assert "".join(f'.desc("{label}")'.split()) in statement, (label, line)


def test_the_source_listing_has_the_anchors(site: Path) -> None:
    page = (site / "http/grammar/index.html").read_text()
    count = len(HTTP_GRAMMAR.read_text().splitlines())
    assert f'id="L-{count}"' in page and f'id="L-{count + 1}"' not in page


def test_every_resp_rule_has_its_diagram(site: Path) -> None:
    page = sections((site / "combinators/resp-grammar/index.html").read_text())
    rules = [a for a in page if a not in ("core-rules", "source")]
    assert rules[0] == "reply" and {"simple-string", "crlf", "null-or-length"} <= set(rules)
    for anchor in rules:
        assert "<svg" in page[anchor], anchor

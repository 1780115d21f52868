"""mkdocs hook: the grammar pages ("HTTP grammar", "RESP grammar"), generated at build time.

Each page lists the rules of a grammar module: the rule's ABNF from
`wirekit.combinators.describe`, its railroad diagram from `wirekit.combinators.railroad`
(inline SVG), and a link to the line of code that defines it (the module's source is
shown at the end of the page, with line anchors). Built from the parsers themselves, the
pages cannot drift from the code.

The pages are added in ``on_files`` (so the nav can list them); the diagrams are put in
place of markers in ``on_page_content``, after Markdown has run, so that Markdown never
sees the SVG.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GrammarPage:
    """One generated page: the rules reachable from ``entries`` (root rule name or None
    to use the parser's label, and the module attribute), with ``names`` naming
    unlabelled parts (rule name -> module attribute) for reading only."""

    path: str
    title: str
    module: str
    source: str  # repo-relative path of the module
    intro: str
    entries: list[tuple[str | None, str]]
    names: dict[str, str] = field(default_factory=dict)
    svgs: dict[str, str] = field(default_factory=dict)


INTRO_NOTATION = """\
Notation (RFC 5234, the notation RFC 9112 uses): concatenation by space, `/` between
alternatives (tried in order: the combinators' ordered choice), `*x` zero or more,
`1*x` one or more, `3x` exactly three, `[ x ]` optional, `( )` grouping; `"abc"` ignores
case, `%s"abc"` does not (RFC 7405); `%x41-5A` is a byte range. Names in capitals such as
`DIGIT` and `SP` are RFC 5234 core rules, defined at the end. Each rule's box in a
diagram links to that rule.
"""

PAGES = [
    GrammarPage(
        path="http/grammar.md",
        title="HTTP grammar",
        module="wirekit.http._grammar",
        source="http/src/wirekit/http/_grammar.py",
        intro="""\
The HTTP/1.1 grammar of `wirekit.http`, as its parsers define it: the rules below are
generated from the code by [`describe`](../combinators/reference.md#wirekit.combinators.describe)
and [`railroad`](../combinators/reference.md#wirekit.combinators.railroad) when these
docs are built. Compare them with RFC 9112's ABNF: the rule names are the RFC's (they are
the labels given with `.desc(...)`, which also name the rule in parse errors), and the
differences are deliberate strictness (no bare LF, no obs-fold, no whitespace before a
colon). `OWS`, `header-section`, `reason-phrase`, `chunk-ext`, `transfer-coding` and
`transfer-parameter` are unlabelled in the code and named here for reading. The trailer
section of a chunked body is `header-section` again.
""",
        entries=[
            ("request-head", "request_head"),
            ("response-head", "response_head"),
            (None, "chunk_line"),
            (None, "next_chunk_line"),
            ("Content-Length", "content_length"),
            (None, "transfer_codings"),
            (None, "connection_options"),
            (None, "host"),
            (None, "authority_form"),
            (None, "absolute_form"),
            (None, "http_absolute_form"),
        ],
        names={
            "OWS": "ows",
            "header-section": "header_section",
            "reason-phrase": "reason_phrase",
            "chunk-ext": "chunk_ext",
            "transfer-coding": "transfer_coding",
            "transfer-parameter": "_parameter",
        },
    ),
    GrammarPage(
        path="combinators/resp-grammar.md",
        title="RESP grammar",
        module="examples.resp.grammar",
        source="examples/resp/grammar.py",
        intro="""\
The grammar of the [RESP tutorial](../tutorial-resp.md)'s parser (RESP2 and RESP3
replies), generated from the code by
[`describe`](reference.md#wirekit.combinators.describe) and
[`railroad`](reference.md#wirekit.combinators.railroad) when these docs are built. The
rules are named after the module's variables. A length-prefixed type reads its length and
then `bind`s it to the parser for what follows (`take(n)`, `count(n, reply)`): the rest of
such a message depends on the value, so the grammar shows it as
`<bind: depends on the value>`. `reply` refers to itself through `fix`.
""",
        entries=[("reply", "reply")],
        names={
            name.replace("_", "-"): name
            for name in [
                "CRLF",
                "line",
                "signed",
                "length",
                "null_or_length",
                "simple_string",
                "simple_error",
                "integer",
                "null",
                "boolean",
                "double",
                "big_number",
            ]
        },
    ),
]


def _import(module: str) -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for `examples`
    return importlib.import_module(module)


def _rule_name(label: str) -> str:
    """The rule name `describe` gives a label."""
    return "-".join(part for part in re.split(r"[^A-Za-z0-9-]+|-", label) if part)


def _lines(source: str) -> tuple[dict[str, int], dict[str, int]]:
    """Where each ``.desc(label)`` call and each module-level assignment begins."""
    tree = ast.parse(source)
    labels: dict[str, int] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "desc"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            labels.setdefault(_rule_name(node.args[0].value), node.lineno)
    variables: dict[str, int] = {}
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name):
                variables.setdefault(t.id, stmt.lineno)
    return labels, variables


def _split_rules(text: str) -> tuple[list[tuple[str, str]], str]:
    """`describe`'s text as (rule name, rule text) pairs, and its core-rule section."""
    body, _, cores = text.partition("\n\n; core rules")
    rules: list[tuple[str, str]] = []
    for line in body.splitlines():
        if line.startswith(" "):
            name, rule = rules[-1]
            rules[-1] = (name, rule + "\n" + line)
        elif line:
            rules.append((line.split(" = ", 1)[0], line))
    core_lines = cores.splitlines()[1:] if cores else []
    return rules, "\n".join(core_lines)


def _markdown(page: GrammarPage) -> str:
    from wirekit.combinators import describe, railroad

    module = _import(page.module)
    source = (ROOT / page.source).read_text()
    label_lines, var_lines = _lines(source)
    names = {rule: getattr(module, attr) for rule, attr in page.names.items()}
    rule_lines = {rule: var_lines[attr] for rule, attr in page.names.items()}
    rules: dict[str, str] = {}
    cores: dict[str, str] = {}
    for root_name, attr in page.entries:
        parser = getattr(module, attr)
        if root_name is not None:
            rule_lines.setdefault(root_name, var_lines[attr])
        text = describe(parser, root_name, names=names)
        diagrams = railroad(parser, root_name, names=names)
        found, core_text = _split_rules(text)
        for name, rule in found:
            if name in rules:
                if rules[name] != rule:
                    raise ValueError(f"{page.title}: two rules named {name}:\n{rules[name]}\n{rule}")
                continue
            rules[name] = rule
            page.svgs[name] = diagrams[name]
        for core in core_text.splitlines():
            cores.setdefault(core.split(" = ")[0], core)
    out = [f"# {page.title}", "", page.intro, INTRO_NOTATION]
    for name, rule in rules.items():
        at = label_lines.get(name, rule_lines.get(name))
        out += [f"## {name}", "", "```abnf", rule, "```", "", f"<!-- wirekit-railroad:{name} -->", ""]
        if at is not None:
            out += [f"Code: [`{page.source}`, line {at}](#L-{at})", ""]
    out += ["## Core rules", "", "From RFC 5234, appendix B.1.", "", "```abnf"]
    out += [cores[n] for n in sorted(cores)]
    out += ["```", "", "## Source", "", f"`{page.source}`:", "", _listing(source), ""]
    return "\n".join(out)


def _listing(source: str) -> str:
    """The module's source, highlighted, each line with an anchor ``L-<n>``."""
    formatter = HtmlFormatter(cssclass="highlight", lineanchors="L", linenos="inline")
    return str(highlight(source, PythonLexer(), formatter)).strip()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated grammar pages."""
    for page in PAGES:
        page.svgs.clear()
        files.append(File.generated(config, page.path, content=_markdown(page)))
    return files


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put the diagrams in place of their markers."""
    for gp in PAGES:
        if page.file.src_uri != gp.path:
            continue
        for name, svg in gp.svgs.items():
            html_text = html_text.replace(
                f"<!-- wirekit-railroad:{name} -->", f'<div class="railroad" style="overflow-x: auto">{svg}</div>'
            )
    return html_text


__all__ = ["PAGES", "on_files", "on_page_content"]

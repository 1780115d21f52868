"""What each distribution tells a user: a LICENSE beside each pyproject (shipped in the
wheel and sdist: `.ci/wheels` checks the built files), metadata (classifiers, keywords,
description), a real README whose Python examples run, and version pins between members."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ["combinators", "serializer", "http"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def project(member: str) -> dict[str, object]:
    data = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
    table: dict[str, object] = data["project"]
    return table


@pytest.mark.parametrize("member", MEMBERS)
def test_metadata(member: str) -> None:
    meta = project(member)
    assert (ROOT / member / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"]
    classifiers = meta["classifiers"]
    assert isinstance(classifiers, list) and "Programming Language :: Python :: 3.11" in classifiers
    assert isinstance(meta["keywords"], list) and len(meta["keywords"]) >= 4
    description = str(meta["description"])
    assert len(description) > 40 and description != f"wirekit {member}"


@pytest.mark.parametrize("member", MEMBERS)
def test_readme_is_real_and_its_examples_run(member: str) -> None:
    text = (ROOT / member / "README.md").read_text()
    assert "placeholder" not in text.lower() and "pip install wirekit-" in text
    blocks = BLOCK.findall(text)
    assert blocks, "a first example"
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{member}/README.md block {number}", "exec", dont_inherit=True), {"__name__": "readme"})


def test_members_pin_each_others_versions() -> None:
    versions = {str(project(m)["name"]): str(project(m)["version"]) for m in MEMBERS}
    dependencies = project("http")["dependencies"]
    assert isinstance(dependencies, list)
    assert sorted(dependencies) == sorted(
        f"{name}=={versions[name]}" for name in ("wirekit-combinators", "wirekit-serializer")
    )
    assert project("combinators")["dependencies"] == [] and project("serializer")["dependencies"] == []

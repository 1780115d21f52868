"""docs/http/state-machine.md shows the reader's transitions as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

from wirekit.http._server import READER_TRANSITIONS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "http" / "state-machine.md"
ROW = re.compile(r"^\| (HEAD|BODY|CLOSED|UPGRADED) \| (HEAD|BODY|CLOSED|UPGRADED) \| (.+?) \|$", re.M)


def test_the_documented_transitions_are_the_codes() -> None:
    documented = {(a, b): why for a, b, why in ROW.findall(PAGE.read_text())}
    in_code = {(a.name, b.name): why for (a, b), why in READER_TRANSITIONS.items()}
    assert documented == in_code

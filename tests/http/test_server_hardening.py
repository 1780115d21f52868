"""`ServerConnection` under the faults of issue 17 (server hardening), at the core: every
case runs sans IO, through the fake runtime, at every split point of its input where the
input is what varies.

- Request targets with the bytes browsers leave unencoded (defect 3).
"""

from __future__ import annotations

import pytest

from tests.http.runtime import check_splits, get, parse_responses, statuses

# -----------------------------------------------------------------------------------------
# Defect 3: request targets as browsers send them
# -----------------------------------------------------------------------------------------
# Captured from headless Chromium's request lines (for /?filter={"a":1}, /?q={a} and
# /?q=`x`^|\y<z>), then what curl and urllib send as typed.
BROWSER_TARGETS = [
    b"/?filter={%22a%22:1}",
    b"/?q={a}",
    b"/?q=`x`^|\\y%3Cz%3E",
    b"/a|b",
    b'/?a="b"',
    b"/{}|^\\`",
]


@pytest.mark.parametrize("target", BROWSER_TARGETS)
def test_browser_targets_are_served(target: bytes) -> None:
    data = get(target.decode("latin-1")) + get("/after", "Connection: close")
    ref = check_splits(data)
    assert [s.target for s in ref.seen] == [target, b"/after"]
    assert statuses(ref.output) == [200, 200]
    assert ref.closed


@pytest.mark.parametrize("byte", [0x00, 0x09, 0x1F, 0x7F, *b"#<>", 0x80, 0xFF], ids=lambda b: f"0x{b:02x}")
def test_other_target_bytes_are_still_400(byte: int) -> None:
    data = b"GET /a" + bytes([byte]) + b" HTTP/1.1\r\nHost: a\r\n\r\n" + get("/never")
    ref = check_splits(data)
    assert ref.seen == []
    responses = parse_responses(ref.output)
    assert [r.status for r in responses] == [400]
    assert ref.closed

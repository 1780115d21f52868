"""`ServerConnection` under the faults of issue 17 (server hardening), continued, at the
core (sans IO, through the fake runtime, at every split point of the input).

- `heads_received` counts request heads received whole, however the input is split, so
  that a runtime's head timer can time each head of a pipelining client (defect 4).
- Absolute-form targets: the grammar splits an http(s) URI into authority and origin-form
  rest; handlers get the origin-form target and `Request.authority` (defect 7).
"""

from __future__ import annotations

from typing import Any

import pytest
from wirekit.combinators import Parser
from wirekit.http import Reqd, Request, Response, ServerConnection
from wirekit.http import _grammar as g

from tests.combinators.helpers import check
from tests.http.runtime import Runtime, check_splits, get, parse_responses


def answer(reqd: Reqd) -> None:
    reqd.respond_with_bytes(Response(200), b"ok")


# -----------------------------------------------------------------------------------------
# Defect 4: the head count a runtime's head timer restarts on
# -----------------------------------------------------------------------------------------
def test_heads_received_counts_whole_heads_at_every_split() -> None:
    data = get("/a") + get("/b") + get("/c")[:10]
    bounds = [len(get("/a")), 2 * len(get("/a"))]  # where the first two heads end
    for cut in range(len(data) + 1):
        conn = ServerConnection(answer)
        rt = Runtime(conn)
        rt.send(data[:cut])
        assert conn.heads_received == sum(cut >= b for b in bounds), cut
        rt.send(data[cut:])
        assert conn.heads_received == 2
        assert conn.head_in_progress or rt.unread  # the third head has begun
    # Byte by byte: the count grows exactly when a head's last byte arrives.
    conn = ServerConnection(answer)
    rt = Runtime(conn)
    counts = []
    for i in range(len(data)):
        rt.send(data[i : i + 1])
        counts.append(conn.heads_received)
    assert [i + 1 for i in range(1, len(counts)) if counts[i] != counts[i - 1]] == bounds


# -----------------------------------------------------------------------------------------
# Defect 7: absolute-form targets
# -----------------------------------------------------------------------------------------
def accepts(p: Parser[Any], data: bytes, value: object) -> None:
    check(p, data, value)  # whole, at every split point, one byte at a time


def rejects(p: Parser[Any], data: bytes) -> None:
    out = check(p, data)
    assert not out.ok, f"{data!r} was accepted as {out.value!r}"


@pytest.mark.parametrize(
    ("target", "authority", "rest"),
    [
        (b"http://localhost/", b"localhost", b"/"),
        (b"http://localhost", b"localhost", b""),
        (b"HTTPS://Example.COM:8443/a/b?c=d&e", b"Example.COM:8443", b"/a/b?c=d&e"),
        (b"hTTp://h?q={a}", b"h", b"?q={a}"),
        (b"http://[::1]:8080/x", b"[::1]:8080", b"/x"),
        (b"http://127.0.0.1:/", b"127.0.0.1:", b"/"),
        (b"http://h/a:b@c//d", b"h", b"/a:b@c//d"),
    ],
)
def test_http_absolute_form_splits_authority_and_rest(target: bytes, authority: bytes, rest: bytes) -> None:
    accepts(g.http_absolute_form, target, (authority, rest))


@pytest.mark.parametrize(
    "target",
    [
        b"http://user@h/",  # userinfo (RFC 9110 §4.2.4)
        b"http://user:pw@h/",
        b"http:///x",  # an empty host (RFC 9110 §4.2.1)
        b"http://",
        b"http:/h/",
        b"http://h:8x/",
        b"ftp://h/",
        b"httpx://h/",
    ],
)
def test_http_absolute_form_rejects(target: bytes) -> None:
    rejects(g.http_absolute_form, target)


class Recorder:
    """Answers 200 with the target, recording each request it saw."""

    def __init__(self) -> None:
        self.seen: list[Request] = []

    def __call__(self, reqd: Reqd) -> None:
        request = reqd.request
        assert request is not None
        self.seen.append(request)
        reqd.respond_with_bytes(Response(200), request.target)


def serve(data: bytes) -> tuple[list[Request], list[int]]:
    """Run ``data`` through a server at every split point; the requests the handler saw
    and the statuses answered (the same every time)."""
    recorders: list[Recorder] = []

    def app() -> Recorder:
        recorders.append(Recorder())
        return recorders[-1]

    result = check_splits(data, eof=True, app=app)
    seen = recorders[0].seen
    assert all([(r.target, r.authority) for r in rec.seen] == [(r.target, r.authority) for r in seen] for rec in recorders)
    return seen, [r.status for r in parse_responses(result.output)]


@pytest.mark.parametrize(
    ("target", "method", "expected_target", "authority"),
    [
        (b"http://localhost/", b"GET", b"/", b"localhost"),
        (b"http://localhost", b"GET", b"/", b"localhost"),
        (b"http://h:8080?x=1", b"GET", b"/?x=1", b"h:8080"),
        (b"HTTPS://h/a/b?c", b"POST", b"/a/b?c", b"h"),
        (b"http://h", b"OPTIONS", b"*", b"h"),  # RFC 9112 §3.2.4
        (b"http://h/", b"OPTIONS", b"/", b"h"),
        (b"/plain?x", b"GET", b"/plain?x", None),  # origin-form: no authority
        (b"urn:x", b"GET", b"urn:x", None),  # another scheme: as it came
    ],
)
def test_handlers_get_the_origin_form_and_the_authority(
    target: bytes, method: bytes, expected_target: bytes, authority: bytes | None
) -> None:
    # The Host header differs from the authority: the authority is what the server uses.
    data = method + b" " + target + b" HTTP/1.1\r\nHost: elsewhere\r\nContent-Length: 0\r\n\r\n"
    seen, statuses = serve(data)
    assert statuses == [200]
    assert [(r.target, r.authority) for r in seen] == [(expected_target, authority)]
    assert seen[0].headers.get(b"host") == b"elsewhere"  # the fields as received


def test_absolute_form_on_http_1_0_needs_no_host() -> None:
    seen, statuses = serve(b"GET http://h:1/p HTTP/1.0\r\n\r\n")
    assert statuses == [200]
    assert [(r.target, r.authority) for r in seen] == [(b"/p", b"h:1")]


@pytest.mark.parametrize(
    "head",
    [
        b"GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n",  # userinfo
        b"GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n",  # no host
        b"GET http://h/ HTTP/1.1\r\n\r\n",  # HTTP/1.1 still needs a Host field
        b"GET http://h/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    ],
)
def test_bad_absolute_form_requests_are_400(head: bytes) -> None:
    seen, statuses = serve(head)
    assert seen == []
    assert statuses == [400]


def test_pipelined_absolute_and_origin_forms() -> None:
    data = get("http://a/1") + get("/2") + get("https://b:2/3?x")
    seen, statuses = serve(data)
    assert statuses == [200, 200, 200]
    assert [(r.target, r.authority) for r in seen] == [(b"/1", b"a"), (b"/2", None), (b"/3?x", b"b:2")]


def test_a_request_made_by_hand_has_no_authority() -> None:
    assert Request("GET", "http://h/x").authority is None
    assert Request("GET", "/") == Request("GET", "/")

"""The oracle mode (`wirekit.http._oracle`): with every common path and cache off, the
connection must produce the same bytes and the same handler-observed events; and the
mistakes a shortcut could make that only such a comparison (or these tests) catches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wirekit.http import (
    CLOSED,
    LocalProtocolError,
    Reqd,
    Response,
    ServerConnection,
    Write,
)
from wirekit.http._oracle import general_paths

from tests.http.runtime import check_splits, parse_responses, run_server
from tests.http.test_properties import SEEDS, SETTINGS, cut, mutated, requests


def both(data: bytes, points: list[int], eof: bool) -> None:
    fast = run_server(cut(data, points), eof)
    with general_paths():
        general = run_server(cut(data, points), eof)
    assert fast.output == general.output
    assert fast.seen == general.seen
    assert (fast.closed, fast.read_closed) == (general.closed, general.read_closed)


@SETTINGS
@given(st.lists(requests(), min_size=1, max_size=4), st.lists(st.integers(0, 3000), max_size=4), st.booleans())
def test_generated_requests_same_both_ways(reqs: list[bytes], points: list[int], eof: bool) -> None:
    both(b"".join(reqs), points, eof)


@SETTINGS
@given(mutated(), st.lists(st.integers(0, 300), max_size=4), st.booleans())
def test_mangled_requests_same_both_ways(data: bytes, points: list[int], eof: bool) -> None:
    both(data, points, eof)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_at_every_split_both_ways(seed: bytes) -> None:
    fast = check_splits(seed + seed)
    with general_paths():
        general = check_splits(seed + seed)
    assert fast.output == general.output and fast.seen == general.seen


def tunnel(reqd: Reqd) -> None:
    if reqd.is_upgrade:
        reqd.respond_with_upgrade([], lambda: None, 200)
    else:
        reqd.respond_with_bytes(Response(200), b"ok")


@pytest.mark.usefixtures("both_paths")
def test_connect_after_a_get_with_the_same_fields_is_a_tunnel() -> None:
    # The framing cache is keyed by the fields that bear on framing: a CONNECT with the
    # same fields as a GET before it must not get the GET's (cached) framing.
    fields = b"Host: a:443\r\nContent-Length: 0\r\n\r\n"
    get = ServerConnection(tunnel)
    get.read(b"GET / HTTP/1.1\r\n" + fields)
    connect_seen: list[bool] = []

    def record(reqd: Reqd) -> None:
        connect_seen.append(reqd.is_upgrade)
        tunnel(reqd)

    conn = ServerConnection(record)
    conn.read(b"CONNECT a:443 HTTP/1.1\r\n" + fields)
    assert connect_seen == [True]
    op = conn.next_write_operation()
    assert isinstance(op, Write) and b"".join(bytes(v) for v in op.iovecs).startswith(b"HTTP/1.1 200 ")


@pytest.mark.usefixtures("both_paths")
def test_responding_after_the_peer_left_is_a_local_protocol_error() -> None:
    app: list[Reqd] = []
    conn = ServerConnection(app.append)
    conn.read(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    conn.report_write_result(CLOSED)  # the peer is gone before the handler answers
    with pytest.raises(LocalProtocolError):
        app[0].respond_with_bytes(Response(200), b"late")
    with pytest.raises(LocalProtocolError):
        app[0].respond_with_streaming(Response(200))
    assert not isinstance(conn.next_write_operation(), Write)


@pytest.mark.usefixtures("both_paths")
def test_pipelined_answers_are_the_same_both_ways() -> None:
    data = b"".join(b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n" % i for i in range(5))
    result = check_splits(data)
    assert [r.status for r in parse_responses(result.output)] == [200] * 5

"""`ServerConnection` under the faults of issue 17 (server hardening), continued, at the
core (sans IO, through the fake runtime, at every split point of the input).

- `heads_received` counts request heads received whole, however the input is split, so
  that a runtime's head timer can time each head of a pipelining client (defect 4).
"""

from __future__ import annotations

from wirekit.http import Reqd, Response, ServerConnection

from tests.http.runtime import Runtime, get


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
        assert conn.head_in_progress or rt.inbox  # the third head has begun
    # Byte by byte: the count grows exactly when a head's last byte arrives.
    conn = ServerConnection(answer)
    rt = Runtime(conn)
    counts = []
    for i in range(len(data)):
        rt.send(data[i : i + 1])
        counts.append(conn.heads_received)
    assert [i + 1 for i in range(1, len(counts)) if counts[i] != counts[i - 1]] == bounds

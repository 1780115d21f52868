"""Date, Server and ``--header`` fields on every response (`wirekit.http.aio._headers`), over
real sockets: native handlers, the demo and ASGI apps; the app's own fields win."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import pytest
from wirekit.http.aio._headers import DefaultHeaders

from tests.http.aio import apps_ops
from tests.http.aio.support import RawConnection, RawResponse, ServerProcess, arun, get, running


def fields(response: RawResponse, name: bytes) -> list[bytes]:
    return [v for n, v in response.headers if n.lower() == name]


def check_date(value: bytes) -> float:
    """The Date value as a timestamp; checks it is an IMF-fixdate near now."""
    text = value.decode()
    assert text.endswith(" GMT") and len(text) == 29, text
    stamp = email.utils.parsedate_to_datetime(text).timestamp()
    assert abs(stamp - time.time()) < 3, text
    return stamp


async def fetch(address: tuple[str, int] | None, *requests: bytes) -> list[RawResponse]:
    conn = await RawConnection.open(address)
    responses = [await conn.request(r, head=r.startswith(b"HEAD")) for r in requests]
    conn.close()
    return responses


@pytest.mark.parametrize("app", [None, apps_ops.scope_app], ids=["native-demo", "asgi"])
def test_date_and_server_by_default(app: Any) -> None:
    async def main() -> None:
        async with running(app) as server:
            for response in await fetch(server.address, get("/"), get("/", method="HEAD"), get("/nope")):
                assert len(fields(response, b"date")) == 1, response.headers
                check_date(fields(response, b"date")[0])
                assert fields(response, b"server") == [b"wirekit"]

    arun(main())


@pytest.mark.parametrize("app", [None, apps_ops.scope_app], ids=["native-demo", "asgi"])
def test_switches_and_extra_headers(app: Any) -> None:
    async def main() -> None:
        options: dict[str, Any] = {"date_header": False, "server_header": False, "headers": ("X-Frame-Options: DENY", "x-b:two")}
        async with running(app, **options) as server:
            (response,) = await fetch(server.address, get("/"))
            assert fields(response, b"date") == [] and fields(response, b"server") == []
            assert fields(response, b"x-frame-options") == [b"DENY"]
            assert fields(response, b"x-b") == [b"two"]

    arun(main())


@pytest.mark.parametrize(
    ("app", "path", "server_value"),
    [(apps_ops.scope_app, "/own-headers", b"my-app/1.0"), (apps_ops.native_own_headers, "/", b"mine")],
    ids=["asgi", "native"],
)
def test_the_apps_own_date_and_server_win(app: Any, path: str, server_value: bytes) -> None:
    async def main() -> None:
        async with running(app, headers=("X-Extra: 1",)) as server:
            (response,) = await fetch(server.address, get(path))
            assert fields(response, b"date") == [b"Thu, 01 Jan 2026 00:00:00 GMT"], response.headers
            assert fields(response, b"server") == [server_value]
            assert fields(response, b"x-extra") == [b"1"]

    arun(main())


def test_the_date_follows_the_clock() -> None:
    async def main() -> None:
        async with running() as server:
            (first,) = await fetch(server.address, get("/"))
            await asyncio.sleep(1.2)
            (second,) = await fetch(server.address, get("/"))
            assert check_date(fields(second, b"date")[0]) > check_date(fields(first, b"date")[0])

    arun(main())


def test_the_date_is_formatted_once_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from wirekit.http.aio import _headers

    calls: list[float] = []

    def counting(stamp: float, usegmt: bool = False) -> str:
        calls.append(stamp)
        return email.utils.formatdate(stamp, usegmt=usegmt)

    monkeypatch.setattr(_headers, "formatdate", counting)
    defaults = DefaultHeaders()
    started = time.time()
    for _ in range(2000):
        defaults.current()
    elapsed = time.time() - started
    assert 1 <= len(calls) <= int(elapsed) + 2, (len(calls), elapsed)
    with pytest.raises(ValueError, match="NAME:VALUE"):
        DefaultHeaders(extra=["no colon"])


def test_command_line_flags() -> None:
    with ServerProcess("--no-date-header", "--header", "X-A:1", "--header", "X-B: 2") as plain, ServerProcess() as default:
        (quiet,) = arun(fetch(plain.address, get("/")))
        (loud,) = arun(fetch(default.address, get("/")))
        assert plain.stop() == 0 and default.stop() == 0
    assert fields(quiet, b"date") == [] and fields(quiet, b"server") == [b"wirekit"]
    assert fields(quiet, b"x-a") == [b"1"] and fields(quiet, b"x-b") == [b"2"]
    check_date(fields(loud, b"date")[0])
    assert fields(loud, b"x-a") == []

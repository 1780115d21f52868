"""Logging of `wirekit serve` (`wirekit.http.aio._logs`): the app's own ``basicConfig``
respected, ``--log-config`` (JSON, YAML, ini), ``--log-level``, the access log (on by
default, with status, body size and duration) and ``--no-access-log``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.http.aio.support import RawConnection, ServerProcess, arun, get

ACCESS = re.compile(r'127\.0\.0\.1 - - \[[^\]]+\] "(?P<line>[^"]+)" (?P<status>\d{3}) (?P<size>\d+|-) (?P<ms>\d+\.\d{3})ms$')


def requests(server: ServerProcess, *targets: str) -> None:
    async def main() -> None:
        conn = await RawConnection.open(server.address)
        for target in targets:
            await conn.request(get(target))
        conn.close()

    arun(main())


def access_lines(text: str) -> list[re.Match[str]]:
    return [m for line in text.splitlines() if (m := ACCESS.search(line))]


def test_the_apps_basic_config_keeps_its_format() -> None:
    with ServerProcess("tests.http.aio.apps_logging:app") as server:
        requests(server, "/first", "/second")
        assert server.stop() == 0
    err = server.stderr
    assert "APPLOG|INFO|myapp|handled /first" in err and "APPLOG|INFO|myapp|handled /second" in err, err
    # wirekit's access lines are printed once, by wirekit's handler (not again by the app's root handler).
    lines = access_lines(err)
    assert [m["line"] for m in lines] == ["GET /first HTTP/1.1", "GET /second HTTP/1.1"], err
    assert all(m["status"] == "200" and m["size"] == "7" for m in lines), err  # 6 + 1 streamed bytes
    assert "APPLOG|INFO|wirekit" not in err


def test_access_log_fields_and_switch() -> None:
    with ServerProcess() as on, ServerProcess("--no-access-log") as off:
        requests(on, "/", "/stream/3", "/bytes/2053", "/nope")
        requests(off, "/", "/nope")
        assert on.stop() == 0 and off.stop() == 0
    got = [(m["line"], m["status"], m["size"]) for m in access_lines(on.stderr)]
    assert got == [
        ("GET / HTTP/1.1", "200", "13"),
        ("GET /stream/3 HTTP/1.1", "200", str(3 * len("chunk 0\n"))),
        ("GET /bytes/2053 HTTP/1.1", "200", "2053"),
        ("GET /nope HTTP/1.1", "404", "10"),
    ], on.stderr
    assert all(float(m["ms"]) < 5000 for m in access_lines(on.stderr))
    assert off.stderr == "", off.stderr


def test_log_level_warning_hides_info_lines() -> None:
    with ServerProcess("--log-level", "warning") as server:
        requests(server, "/")
        assert server.stop() == 0
    assert server.stderr == "", server.stderr


DICT_CONFIG = {
    "version": 1,
    "formatters": {"plain": {"format": "CUSTOM[%(name)s] %(message)s"}},
    "handlers": {"file": {"class": "logging.FileHandler", "filename": "{log}", "formatter": "plain"}},
    "loggers": {"wirekit": {"handlers": ["file"], "level": "INFO", "propagate": False}},
}

INI_CONFIG = """
[loggers]
keys=root,wirekit

[handlers]
keys=file

[formatters]
keys=plain

[logger_root]
level=WARNING
handlers=

[logger_wirekit]
level=INFO
handlers=file
qualname=wirekit
propagate=0

[handler_file]
class=FileHandler
formatter=plain
args=('{log}',)

[formatter_plain]
format=CUSTOM[%(name)s] %(message)s
"""


@pytest.mark.parametrize("kind", ["json", "yaml", "ini"])
def test_log_config_file(kind: str, tmp_path: Path) -> None:
    log = tmp_path / "wirekit.log"
    config = tmp_path / f"logging.{kind}"
    if kind == "ini":
        config.write_text(INI_CONFIG.replace("{log}", str(log)))
    else:
        text = json.dumps(DICT_CONFIG).replace("{log}", str(log))
        config.write_text(text)  # JSON is YAML too
    with ServerProcess("--log-config", str(config)) as server:
        requests(server, "/", "/nope")
        assert server.stop() == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and all(line.startswith("CUSTOM[wirekit.access] 127.0.0.1 - - [") for line in lines), lines
    assert access_lines(server.stderr) == [], "the file config decides where the lines go"


def test_a_broken_log_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text("{not json")
    from tests.http.aio.support import wirekit

    result = wirekit("serve", "--log-config", str(config), "--port", "0")
    assert result.returncode == 2 and result.stderr.startswith("wirekit: --log-config "), result.stderr
    assert result.stderr.count("\n") == 1

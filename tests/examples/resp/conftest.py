"""The ``redis_port`` fixture: one throwaway redis-server for the module's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.examples.resp.support import resp


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    """Start ``redis-server --port <free> --save "" --appendonly no --bind 127.0.0.1``,
    wait until it answers PING, and stop it after the module's tests."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with resp.redis_server() as port:
        yield port

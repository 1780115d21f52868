"""Fixtures for the HTTP tests: ``both_paths`` runs a test with the HTTP layer's common
paths and caches on, then in the oracle mode (`wirekit.http._oracle.general_paths`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wirekit.http._oracle import general_paths


@pytest.fixture(params=["common-paths", "general-paths"])
def both_paths(request: pytest.FixtureRequest) -> Iterator[str]:
    """The mode the test runs in (use with ``pytest.mark.usefixtures``)."""
    if request.param == "general-paths":
        with general_paths():
            yield request.param
    else:
        yield request.param

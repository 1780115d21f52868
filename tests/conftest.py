"""Test-wide settings: hypothesis runs without per-example deadlines. Speed goals live in
the benchmarks, never in timed tests; a loaded machine must not fail a property."""

import os

from hypothesis import settings

settings.register_profile("wirekit", deadline=None)
settings.load_profile("wirekit")

if os.environ.get("WIREKIT_EXPECT_COMPILED"):
    # `.ci/compiled test`: this run must exercise the mypyc-compiled modules, not sources.
    import wirekit.combinators._machine
    import wirekit.http._server
    import wirekit.serializer._serializer

    for _module in (
        wirekit.combinators._machine,
        wirekit.serializer._serializer,
        wirekit.http._server,
    ):
        if not (_module.__file__ or "").endswith(".so"):
            raise RuntimeError(f"WIREKIT_EXPECT_COMPILED: {_module.__name__} is {_module.__file__}")

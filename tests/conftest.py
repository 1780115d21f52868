"""Test-wide settings: hypothesis runs without per-example deadlines. Speed goals live in
the benchmarks, never in timed tests; a loaded machine must not fail a property."""

from hypothesis import settings

settings.register_profile("wirekit", deadline=None)
settings.load_profile("wirekit")

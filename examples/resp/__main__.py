"""``uv run python -m examples.resp``: the demo (see `demo.main`)."""

from .demo import main

main()

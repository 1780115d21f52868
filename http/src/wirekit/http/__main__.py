"""``python -m wirekit.http serve [APP] ...``: the same command as ``wirekit``."""

import sys

from .aio._cli import main

sys.exit(main())

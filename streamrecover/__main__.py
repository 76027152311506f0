"""python -m streamrecover: the command line."""

from __future__ import annotations

import sys

from streamrecover.cli import main

sys.exit(main())

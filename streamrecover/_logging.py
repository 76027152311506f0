"""The library's one logger, ``streamrecover``.

A library logs; the application decides where logs go. The NullHandler keeps
Python's last-resort handler from printing our warnings on stderr when the
application configured no logging. It lives here, not in the package's
``__init__``, so that importing the stdlib-only core does not load ``logging``.
"""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("streamrecover")
logger.addHandler(logging.NullHandler())

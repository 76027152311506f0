"""The storage defaults a client needs at import time, without the storage machinery."""

from __future__ import annotations

__all__ = ["DEFAULT_RENEW_INTERVAL"]

#: How often a writer renews its lease when nothing else touched its record (seconds).
DEFAULT_RENEW_INTERVAL = 2.0

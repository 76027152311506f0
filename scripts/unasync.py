"""Generate the sync transport from the async one (httpcore's "unasync" approach).

``streamrecover/transport/_async.py`` is the only hand-written copy of the HTTP
exchange logic; this script rewrites it into ``_sync.py`` by token
replacement. Run it after editing ``_async.py``::

    python scripts/unasync.py           # rewrite _sync.py
    python scripts/unasync.py --check   # exit 1 if _sync.py is out of date

``tests/transport/test_unasync.py`` runs the check.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "streamrecover" / "transport" / "_async.py"
TARGET = ROOT / "streamrecover" / "transport" / "_sync.py"

#: Whole phrases of prose that do not translate word by word. Each must occur
#: in the source: a phrase that no longer matches is an error, not a silent skip.
PHRASES = [
    (
        "The async HTTP/1.1 transport: h11 framing over anyio byte streams.",
        "The sync HTTP/1.1 transport: h11 framing over stdlib sockets and ssl.",
    ),
    (
        "This file is the source of ``_sync.py``: ``scripts/unasync.py`` rewrites it\n"
        "into the sync transport by token replacement, and a test checks that the\n"
        "generated file is current. Edit this file, then run the script.",
        "GENERATED from ``_async.py`` by ``scripts/unasync.py``: do not edit this\n"
        "file. Edit ``_async.py``, then run the script; a test checks that this\n"
        "file is current.",
    ),
]

#: Token replacements, applied in order (keywords before the bare word "async").
TOKENS = [
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baiter_bytes\b", "iter_bytes"),
    (r"\baclose\b", "close"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncTransport\b", "SyncTransport"),
    (r"\bAsyncResponse\b", "SyncResponse"),
    (r"\bAnyIOStream\b", "SocketStream"),
    (r"\b_stream_anyio\b", "_stream_socket"),
    (r"\basync\b", "sync"),
]


def unasync(source: str) -> str:
    """Return the sync module generated from the text of the async one.

    Raises ``ValueError`` when a phrase rule no longer matches the source.
    """
    text = source
    for old, new in PHRASES:
        if old not in text:
            raise ValueError(f"phrase not found in {SOURCE.name}: {old[:60]!r}")
        text = text.replace(old, new)
    for pattern, replacement in TOKENS:
        text = re.sub(pattern, replacement, text)
    return text


def main(argv: list[str]) -> int:
    generated = unasync(SOURCE.read_text(encoding="utf-8"))
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != generated:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python scripts/unasync.py")
            return 1
        return 0
    TARGET.write_text(generated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

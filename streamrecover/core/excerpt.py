"""Short, readable excerpts of response bodies for error messages.

A reverse proxy or a load balancer in front of an API answers a 502 or 504 with
a whole HTML page; put into an error message it buries the one line that
matters under markup. :func:`body_excerpt` reduces an HTML body to its
``<title>`` (or its first line of text) and any other body to its first line,
bounded in length. Stdlib only, no I/O, never raises.
"""

from __future__ import annotations

import html
import re

__all__ = ["body_excerpt", "looks_like_html"]

#: Longest excerpt, in characters, before an ellipsis.
MAX_EXCERPT = 200

_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title\s*>")
_HEADING = re.compile(r"(?is)<h1[^>]*>(.*?)</h1\s*>")
_SCRIPT_OR_STYLE = re.compile(r"(?is)<(script|style)[^>]*>.*?</\1\s*>")
_TAG = re.compile(r"(?s)<[^>]*>")
_SPACE = re.compile(r"\s+")


def looks_like_html(body: str) -> bool:
    """Whether ``body`` is an HTML page rather than JSON or text."""
    start = body.lstrip()[:256].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body", "<title", "<?xml"))


def _clean(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def body_excerpt(body: str, *, limit: int = MAX_EXCERPT) -> str:
    """Return the part of ``body`` worth quoting in one line of an error message.

    HTML: the ``<title>``, else the first ``<h1>``, else the first line of its
    text. JSON and plain text: the first non-empty line (a JSON error body is
    usually one line). At most ``limit`` characters.
    """
    if not body:
        return ""
    if looks_like_html(body) or _TITLE.search(body[:4096]) is not None:
        for pattern in (_TITLE, _HEADING):
            match = pattern.search(body)
            if match is not None and _clean(match.group(1)):
                return _bounded(_clean(match.group(1)), limit)
        text = _SCRIPT_OR_STYLE.sub(" ", body)
        lines = (_clean(line) for line in _TAG.sub("\n", text).splitlines())
        return _bounded(next((line for line in lines if line), ""), limit)
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return _bounded(first, limit)

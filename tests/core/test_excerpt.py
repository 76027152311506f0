"""Error-body excerpts: an HTML page is reduced to its title, anything else to its first line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import HTTPStatusError, UnexpectedContentError
from streamrecover.core.excerpt import MAX_EXCERPT, body_excerpt

NGINX_504 = """<html>
<head><title>504 Gateway Time-out</title></head>
<body>
<center><h1>504 Gateway Time-out</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
CLOUDFLARE_LIKE = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html><head>
<meta charset="UTF-8" />
<style>body{margin:0}</style>
</head><body><div id="cf-wrapper"><h1><span>Bad gateway</span> <span>Error code 502</span></h1>
</div></body></html>"""


def test_an_html_page_gives_its_title() -> None:
    assert body_excerpt(NGINX_504) == "504 Gateway Time-out"


def test_an_html_page_without_a_title_gives_its_heading() -> None:
    assert body_excerpt(CLOUDFLARE_LIKE) == "Bad gateway Error code 502"


def test_html_entities_are_decoded() -> None:
    assert (
        body_excerpt("<title>Service &amp; API unavailable</title>") == "Service & API unavailable"
    )


def test_an_html_page_with_neither_gives_its_first_line_of_text() -> None:
    page = "<html><body>\n<p>\n  Upstream   connect error\n</p><p>more</p></body></html>"
    assert body_excerpt(page) == "Upstream connect error"


def test_json_and_text_give_their_first_line() -> None:
    body = '{"error": {"message": "Overloaded", "type": "overloaded_error"}}'
    assert body_excerpt(body) == body
    assert body_excerpt("\n\nupstream request timeout\nmore detail\n") == "upstream request timeout"


def test_long_excerpts_are_cut_with_an_ellipsis() -> None:
    excerpt = body_excerpt("x" * 1000)
    assert len(excerpt) == MAX_EXCERPT and excerpt.endswith("…")


@given(st.text())
def test_any_body_gives_one_bounded_line(body: str) -> None:
    excerpt = body_excerpt(body)
    assert len(excerpt) <= MAX_EXCERPT
    assert "\n" not in excerpt and "\r" not in excerpt


def test_error_messages_quote_the_excerpt_and_keep_the_body() -> None:
    error = HTTPStatusError(504, body=NGINX_504)
    assert str(error) == "HTTP 504: 504 Gateway Time-out"
    assert error.body == NGINX_504
    portal = UnexpectedContentError("text/html", body=NGINX_504.replace("504 Gateway", "Portal"))
    assert str(portal) == "expected text/event-stream, got text/html: Portal Time-out"

"""Resume strategies: how to continue an answer that broke after text was delivered.

Each strategy turns (original body, committed text, where the stream stood)
into a :class:`ResumePlan`: the next request, how much of the delivered text is
kept (the rest is rolled back with a ``Rewind``), and whether the continuation
must go through the stitcher.

=============  ==============================================================
strategy       what the next request asks for
=============  ==============================================================
``native``     the same response, from where it stopped (no regeneration)
``exact``      the rest of the kept text (prefill, or "continue exactly")
``paragraph``  the rest, after rolling back to the last complete paragraph
``summarize``  the rest, resending a condensed head and the verbatim tail
``restart``    the original request again, after rolling back to zero
=============  ==============================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from streamrecover.core.errors import UsageError
from streamrecover.core.http import HTTPRequest

if TYPE_CHECKING:  # providers depend on core, never the other way at run time
    from streamrecover.providers.base import Provider, ResumePoint

__all__ = [
    "CONTINUE_INSTRUCTION",
    "STRATEGIES",
    "ResumePlan",
    "Strategy",
    "condense",
    "last_paragraph_end",
    "plan_resume",
]

Strategy = Literal["native", "exact", "paragraph", "summarize", "restart"]
STRATEGIES: tuple[Strategy, ...] = ("native", "exact", "paragraph", "summarize", "restart")

#: The user turn sent after the partial answer when the model cannot take a prefill.
CONTINUE_INSTRUCTION = (
    "Your previous answer was cut off. Continue it exactly where it stops, "
    "starting with the very next character. Do not repeat any of it, do not "
    "add a preamble or comment, and keep the same format."
)
SUMMARY_INSTRUCTION = (
    "Your previous answer was cut off; the middle of it is elided above as "
    "[...]. Continue it exactly where it stops, starting with the very next "
    "character. Do not repeat any of it, do not add a preamble or comment."
)
ELISION = "\n[...]\n"
_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t\r]*\n)+")
#: The smallest output-token limit a resume request is given.
MIN_OUTPUT_TOKENS = 128
#: A rough characters-per-token figure, used only when the provider reported no usage.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePlan:
    """What the next attempt does.

    ``keep`` is how many characters of the delivered text stay (a ``Rewind(to=keep)``
    is due when it is shorter than what was delivered); ``stitch`` says whether the
    continuation may repeat the kept text's tail and must go through the stitcher;
    ``reuse_parser`` is True for native resume, where the same response goes on.
    ``seam_whitespace`` tells the stitcher what the model saw of the kept text's
    trailing whitespace: ``None`` when a prefill stripped it (the model re-emits
    it), ``""`` when the model saw the text whole.
    """

    strategy: Strategy
    request: HTTPRequest
    keep: int
    stitch: bool
    reuse_parser: bool = False
    seam_whitespace: str | None = ""


def last_paragraph_end(text: str) -> int:
    """Return the length of ``text`` up to and including its last paragraph break.

    A paragraph break is a blank line: two line ends with nothing but spaces,
    tabs or carriage returns between them. Returns 0 when ``text`` has no
    complete paragraph.
    """
    end = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        end = match.end()
    return end


def condense(text: str, *, head: int, tail: int) -> str:
    """Return the first ``head`` and last ``tail`` characters of ``text`` around an elision.

    The tail is verbatim, so a model given the condensed text as a prefill continues
    from the exact cut.
    """
    if len(text) <= head + tail + len(ELISION):
        return text
    return text[:head] + ELISION + text[-tail:]


def plan_resume(
    provider: Provider,
    body: Mapping[str, Any],
    *,
    strategy: Strategy,
    committed_text: str,
    point: ResumePoint,
    generated_tokens: int | None = None,
    summarize_threshold: int = 24_000,
    summarizer: Callable[[str], str] | None = None,
) -> ResumePlan:
    """Choose and build the request that continues an answer.

    Args:
        provider: the wire format, which builds the request.
        body: the caller's original request body (never modified).
        strategy: the caller's choice. ``native`` is used whenever the provider and
            the response allow it, whatever was chosen; a structured-output answer
            or an empty committed text always restarts, since nothing before the
            cut can be extended safely.
        committed_text: the text the consumer holds now.
        point: where the stream stood (for native resume).
        generated_tokens: output tokens already spent on ``committed_text`` if the
            provider reported them; otherwise estimated from its length.
        summarize_threshold: ``summarize`` condenses only texts longer than this
            (in characters); shorter ones resume as ``exact``.
        summarizer: replaces the built-in head-and-tail condensation.

    Returns:
        the plan for the next attempt.

    Raises:
        UsageError: unknown strategy.
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    native = provider.native_resume_request(body, point)
    if native is not None:
        return ResumePlan(
            strategy="native",
            request=native,
            keep=len(committed_text),
            stitch=False,
            reuse_parser=True,
        )
    keep = len(committed_text)
    if strategy == "paragraph":
        keep = last_paragraph_end(committed_text)
    if strategy == "restart" or keep == 0 or provider.structured_output(body):
        return ResumePlan(
            strategy="restart", request=provider.build_request(body), keep=0, stitch=False
        )
    kept = committed_text[:keep]
    spent = generated_tokens if generated_tokens is not None else len(kept) // CHARS_PER_TOKEN
    limited = provider.limit_output_tokens(body, spent, floor=MIN_OUTPUT_TOKENS)
    prefill = provider.supports_prefill(body)
    seam: str | None = None if prefill and provider.prefill_strips_whitespace() else ""
    if strategy == "summarize" and len(kept) > summarize_threshold:
        tail = kept[-summarize_threshold // 4 :]
        summary = summarizer(kept) if summarizer is not None else None
        if summary is not None:
            # A caller's summary replaces the head; the verbatim tail still ends the turn.
            shown = summary.rstrip() + ELISION + tail
        else:
            shown = condense(kept, head=summarize_threshold // 2, tail=summarize_threshold // 4)
        continued = provider.continuation_body(
            limited, shown, prefill=prefill, instruction=SUMMARY_INSTRUCTION
        )
        return ResumePlan(
            strategy="summarize",
            request=provider.build_request(continued),
            keep=keep,
            stitch=True,
            seam_whitespace=seam,
        )
    continued = provider.continuation_body(
        limited, kept, prefill=prefill, instruction=CONTINUE_INSTRUCTION
    )
    used: Strategy = "paragraph" if strategy == "paragraph" else "exact"
    return ResumePlan(
        strategy=used,
        request=provider.build_request(continued),
        keep=keep,
        stitch=True,
        seam_whitespace=seam,
    )

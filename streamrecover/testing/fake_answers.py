"""What the fake model answers: the reference texts, :class:`Answer`, its text deltas,
and the answer to a continuation request.

Re-exported by :mod:`streamrecover.testing.fakeprovider`, the usual import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from streamrecover.testing.request_checks import Inspection

__all__ = [
    "DEFAULT_ANSWER",
    "JSON_ANSWER",
    "JSON_ANSWER_TEXT",
    "REASONING_TEXT",
    "REFERENCE_TEXT",
    "TOOL_CALL",
    "Answer",
    "OverlapUnit",
    "ToolCall",
    "continuation_answer",
    "split_deltas",
]

#: The reference answer text: several paragraphs, and multi-byte UTF-8 of every
#: length (2, 3 and 4 bytes), so that cuts land inside characters.
REFERENCE_TEXT = (
    "Streaming keeps a reader company: the answer arrives a few words at a time, "
    "and a café in Zürich feels as close as a naïve résumé. "
    "日本語の文章も途中で切れてはいけません。\n\n"
    "A second paragraph brings emoji 🚀✨ and symbols (em dashes —, “curly quotes”, "
    "and ½ fractions) so that every multi-byte sequence crosses a frame. "
    "Grüße aus Köln!\n\n"
    "The last paragraph ends the answer cleanly, with nothing left out and nothing said twice."
)

#: The reasoning (thinking) that precedes the answer when a scenario enables it.
REASONING_TEXT = (
    "The user wants a short answer about streaming. I will mention Zürich, "
    "keep it to three paragraphs and add an emoji 🚀 for flavour."
)

#: A structured (JSON-mode) reference answer: one JSON document, pretty-printed
#: so that its deltas are words.
JSON_ANSWER_TEXT = json.dumps(
    {
        "city": "Zürich",
        "summary": "A café, a naïve résumé and a rocket 🚀.",
        "tags": ["streaming", "résumé", "日本語"],
        "paragraphs": 3,
    },
    ensure_ascii=False,
    indent=2,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A function call that ends an answer: ``arguments`` is its JSON text."""

    id: str
    name: str
    arguments: str


#: The tool call used when a scenario asks for one.
TOOL_CALL = ToolCall(
    id="call_fake_1", name="get_weather", arguments='{"city": "Zürich", "unit": "celsius"}'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What the fake model answers.

    ``text`` is the answer; ``reasoning`` (when not empty) streams first as
    thinking; ``tool_call`` (when given) streams last. ``words_per_delta`` sets
    how many words each text delta carries. ``response_id`` names the response
    (OpenAI Responses ids, message ids). Usage figures are derived from the
    lengths unless given.
    """

    text: str
    reasoning: str = ""
    tool_call: ToolCall | None = None
    model: str = "fake-model"
    response_id: str = "resp_fake_1"
    words_per_delta: int = 3
    input_tokens: int = 25
    output_tokens: int | None = None
    #: The text deltas, when given: they must concatenate to ``text`` (token-shaped
    #: deltas for the seam corpus); otherwise ``words_per_delta`` words each.
    text_deltas: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.text_deltas is not None and "".join(self.text_deltas) != self.text:
            raise ValueError("text_deltas must concatenate to text")

    @property
    def usage_output_tokens(self) -> int:
        """Output tokens reported at the end (given, or about four characters a token)."""
        if self.output_tokens is not None:
            return self.output_tokens
        tool = len(self.tool_call.arguments) if self.tool_call is not None else 0
        return max(1, (len(self.text) + len(self.reasoning) + tool) // 4)

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens reported at the end."""
        return len(self.reasoning) // 4


DEFAULT_ANSWER = Answer(text=REFERENCE_TEXT)
JSON_ANSWER = Answer(text=JSON_ANSWER_TEXT)


_WORD = re.compile(r"\S+\s*")


def split_deltas(text: str, words_per_delta: int = 3) -> list[str]:
    """Split ``text`` into deltas of ``words_per_delta`` words (whitespace stays attached).

    The deltas concatenate to ``text`` exactly. Returns ``[]`` for an empty text.
    """
    if not text:
        return []
    words = _WORD.findall(text)
    leading = text[: len(text) - len("".join(words))]
    if leading:
        words.insert(0, leading)
    step = max(1, words_per_delta)
    return ["".join(words[i : i + step]) for i in range(0, len(words), step)]


OverlapUnit = Literal["chars", "words"]


def _word_starts(text: str) -> Iterator[int]:
    for match in _WORD.finditer(text):
        yield match.start()


def continuation_answer(
    answer: Answer,
    inspection: Inspection,
    *,
    overlap: int = 0,
    overlap_unit: OverlapUnit = "chars",
    restart: bool = False,
    response_id: str = "resp_fake_2",
) -> Answer:
    """Return what the fake model streams for a continuation request.

    The rest of ``answer.text`` after the partial text the request carried
    (the stripped prefill included: the model re-emits the whitespace it did
    not see), optionally repeating the last ``overlap`` characters or words of
    the partial first, or (``restart``) the whole answer again, as a model that
    ignored the instruction would. Reasoning and the tool call are streamed
    again: a continuation thinks anew, and a tool call ends the answer.
    """
    cut = len(inspection.partial)
    if restart:
        start = 0
    elif overlap_unit == "words" and overlap > 0:
        starts = [s for s in _word_starts(answer.text) if s < cut]
        start = starts[-overlap] if len(starts) >= overlap else 0
    else:
        start = max(0, cut - overlap)
    return replace(answer, text=answer.text[start:], text_deltas=None, response_id=response_id)

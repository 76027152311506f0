"""The events a stream yields to its consumer.

Every event is a frozen, slotted, keyword-only dataclass deriving from
:class:`Event`; consumers dispatch on the type. Events never act.

Two groups come out of one hierarchy:

* content events, produced by a provider from one SSE event and passed on by the
  session: :class:`TextDelta`, :class:`ReasoningDelta`, :class:`ToolCallDelta`,
  :class:`Usage`, :class:`Finished`;
* recovery events, produced by the session: :class:`Rewind`, :class:`Retrying`,
  :class:`Resumed`, :class:`Completed`.

A consumer that keeps the answer text applies them like this::

    text = ""
    for event in stream:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Rewind):
            text = event.apply(text)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Completed",
    "Event",
    "FellBack",
    "Finished",
    "ReasoningDelta",
    "Resumed",
    "Retrying",
    "Rewind",
    "TextDelta",
    "ToolCallDelta",
    "Usage",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of every event."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelta(Event):
    """A piece of the answer text, to be appended to what came before."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDelta(Event):
    """A piece of the model's reasoning (thinking, reasoning_content, reasoning summary).

    ``signature`` carries Anthropic's ``signature_delta`` (opaque, needed to send a
    thinking block back); it is empty for ordinary thinking text.
    ``redacted_data`` carries the opaque ``data`` of an Anthropic
    ``redacted_thinking`` block (encrypted thinking, no text), needed to send that
    block back unchanged; empty otherwise.
    """

    text: str = ""
    signature: str = ""
    redacted_data: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallDelta(Event):
    """A piece of a tool (function) call.

    ``index`` identifies the call within the answer; ``id`` and ``name`` come with
    the first piece of a call (empty afterwards); ``arguments`` is a fragment of the
    JSON arguments, to be concatenated in order.
    """

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""
    #: What kind of call, on the first piece: empty for an ordinary function call
    #: (Chat ``tool_calls``, Anthropic ``tool_use``, Gemini ``functionCall``,
    #: Responses ``function_call``); otherwise the OpenAI Responses item type the
    #: application must execute (``local_shell_call``, ``shell_call``,
    #: ``apply_patch_call``, ``custom_tool_call``, ``computer_call``,
    #: ``mcp_call``), whose ``arguments`` are then the item's JSON ``action``
    #: (or ``operation``), its free-form ``input``, or its ``arguments``.
    kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage(Event):
    """Token usage as reported by the provider.

    Providers report cumulative figures for one response; the session sums the
    figures of successive attempts.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished(Event):
    """The provider said why the answer ended (``stop``, ``end_turn``, ``tool_calls``...).

    A provider emits it when it sees the stop reason; the stream is complete only
    once the provider's terminal marker has also arrived.
    """

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rewind(Event):
    """Drop delivered text back to ``to`` characters (a strategy rolled back).

    ``reasoning_to``, when not None, does the same for the reasoning text (a
    thinking block cut in half is dropped and regenerated).
    """

    to: int
    reasoning_to: int | None = None

    def apply(self, text: str) -> str:
        """Return ``text`` cut back to ``to`` characters."""
        return text[: self.to]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrying(Event):
    """An attempt failed and another will start after ``delay`` seconds.

    ``attempt`` is the number of the attempt about to start (the first is 1);
    ``cause`` the fault that ended the previous one; ``resume`` whether text had
    already been delivered (the next attempt resumes rather than retries).
    """

    attempt: int
    delay: float
    cause: BaseException
    resume: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Event):
    """A new attempt is continuing a half-delivered answer with ``strategy``."""

    strategy: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed(Event):
    """The answer is complete. The last event of a successful stream."""

    finish_reason: str
    usage: Usage | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FellBack(Event):
    """The provider in use gave up; the stream goes on with ``to_provider``.

    ``model`` is the fallback's model, ``cause`` what made ``from_provider``
    give up (its last fault), ``offset`` how many characters of text had been
    delivered when the fallback took over (0: it starts the answer afresh).
    """

    from_provider: str
    to_provider: str
    model: str
    cause: BaseException | None
    offset: int = 0

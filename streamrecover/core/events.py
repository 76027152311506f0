"""The events a stream yields to its consumer.

Every event is a frozen, slotted, keyword-only dataclass deriving from
:class:`Event`; consumers dispatch on the type. Events never act.

They are written out rather than made by ``@dataclass``: generating the methods
of eleven classes at import cost about 10 ms, paid by every process that opens
a stream (issue 14). What ``@dataclass(frozen=True, slots=True, kw_only=True)``
would give is kept exactly: the keyword-only ``__init__``, ``repr``, equality
and hashing over the fields, ``FrozenInstanceError`` on assignment, pickling,
``__match_args__``, and ``dataclasses.fields``/``replace``/``asdict`` (the
dataclass metadata is built on first use by :class:`_DataclassView`).
tests/core/test_events.py checks each class against its ``@dataclass`` twin.

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

from _thread import get_ident
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

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

_T = TypeVar("_T")

#: What the frozen ``__init__`` methods set a field with.
_set = object.__setattr__
#: The events a repr is being built for in each thread (a repr guard, as dataclasses keeps).
_IN_REPR: set[tuple[int, int]] = set()
#: The classes of this module, in the order they are defined.
_EVENT_CLASSES: list[type] = []


def _frozen_error(message: str) -> Exception:
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)


def _make_event(cls: type[_T]) -> type[_T]:
    """Give ``cls`` what ``@dataclass(frozen=True, slots=True, kw_only=True)`` gives.

    Its fields are its ``__slots__``, in the order of its annotations (each
    event derives from :class:`Event` directly, which has none); its
    ``__init__`` is written in the class body.
    """
    names: tuple[str, ...] = cls.__dict__["__slots__"]
    assert names == tuple(cls.__annotations__), f"{cls.__name__}: fields and slots differ"
    values: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        values = attrgetter(*names)
    elif names:
        one = attrgetter(names[0])

        def values(self: Any) -> tuple[Any, ...]:
            return (one(self),)
    else:

        def values(self: Any) -> tuple[Any, ...]:
            return ()

    def __repr__(self: Any) -> str:
        key = (id(self), get_ident())
        if key in _IN_REPR:
            return "..."
        _IN_REPR.add(key)
        try:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            _IN_REPR.discard(key)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=False):
            _set(self, name, value)

    for method in (
        __repr__,
        __eq__,
        __hash__,
        __setattr__,
        __delattr__,
        __getstate__,
        __setstate__,
    ):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    # Keyword-only fields are left out of positional patterns, as in a dataclass.
    # As in a generated __init__, the return annotation is None itself, not "None".
    cls.__dict__["__init__"].__annotations__["return"] = None
    setattr(cls, "__match_args__", ())  # noqa: B010 (not a declared attribute)
    _EVENT_CLASSES.append(cls)
    return cls


if TYPE_CHECKING:
    # Type checkers see frozen keyword-only dataclasses (PEP 681).
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, kw_only_default=True)
    def _event(cls: type[_T]) -> type[_T]: ...

else:
    _event = _make_event


class _DataclassView:
    """``__dataclass_fields__`` or ``__dataclass_params__`` of the events, built on first use.

    ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` (and a
    ``@dataclass`` subclass of an event) read them; they are taken from a
    ``@dataclass`` twin of the event class, made the first time they are asked
    for. Set on :class:`Event` only, and inherited.
    """

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self.built: dict[type, Any] = {}

    def __get__(self, instance: object, owner: type) -> Any:
        event_class = next(klass for klass in owner.__mro__ if klass in _EVENT_CLASSES)
        value = self.built.get(event_class)
        if value is None:
            value = self.built[event_class] = getattr(_dataclass_twin(event_class), self.attribute)
        return value


def _dataclass_twin(cls: type) -> type:
    from dataclasses import dataclass

    namespace: dict[str, Any] = {
        "__annotations__": dict(cls.__annotations__),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    namespace.update(cls.__dict__["__init__"].__kwdefaults__ or {})
    twin: type = dataclass(frozen=True, slots=True, kw_only=True)(type(cls.__name__, (), namespace))
    return twin


@_event
class Event:
    """Base class of every event."""

    __slots__ = ()

    def __init__(self) -> None:
        pass


# dataclasses' metadata: inherited by every event, built on first use.
for _attribute in ("__dataclass_fields__", "__dataclass_params__"):
    setattr(Event, _attribute, _DataclassView(_attribute))


@_event
class TextDelta(Event):
    """A piece of the answer text, to be appended to what came before."""

    __slots__ = ("text",)
    text: str

    def __init__(self, *, text: str) -> None:
        _set(self, "text", text)


@_event
class ReasoningDelta(Event):
    """A piece of the model's reasoning (thinking, reasoning_content, reasoning summary).

    ``signature`` carries Anthropic's ``signature_delta`` (opaque, needed to send a
    thinking block back); it is empty for ordinary thinking text.
    ``redacted_data`` carries the opaque ``data`` of an Anthropic
    ``redacted_thinking`` block (encrypted thinking, no text), needed to send that
    block back unchanged; empty otherwise.
    """

    __slots__ = ("text", "signature", "redacted_data")  # noqa: RUF023 (in field order)
    text: str
    signature: str
    redacted_data: str

    def __init__(self, *, text: str = "", signature: str = "", redacted_data: str = "") -> None:
        _set(self, "text", text)
        _set(self, "signature", signature)
        _set(self, "redacted_data", redacted_data)


@_event
class ToolCallDelta(Event):
    """A piece of a tool (function) call.

    ``index`` identifies the call within the answer; ``id`` and ``name`` come with
    the first piece of a call (empty afterwards); ``arguments`` is a fragment of the
    JSON arguments, to be concatenated in order.
    """

    __slots__ = ("index", "id", "name", "arguments", "kind")  # noqa: RUF023 (in field order)
    index: int
    id: str
    name: str
    arguments: str
    #: What kind of call, on the first piece: empty for an ordinary function call
    #: (Chat ``tool_calls``, Anthropic ``tool_use``, Gemini ``functionCall``,
    #: Responses ``function_call``); otherwise the OpenAI Responses item type the
    #: application must execute (``local_shell_call``, ``shell_call``,
    #: ``apply_patch_call``, ``custom_tool_call``, ``computer_call``,
    #: ``mcp_call``), whose ``arguments`` are then the item's JSON ``action``
    #: (or ``operation``), its free-form ``input``, or its ``arguments``.
    kind: str

    def __init__(
        self, *, index: int, id: str = "", name: str = "", arguments: str = "", kind: str = ""
    ) -> None:
        _set(self, "index", index)
        _set(self, "id", id)
        _set(self, "name", name)
        _set(self, "arguments", arguments)
        _set(self, "kind", kind)


@_event
class Usage(Event):
    """Token usage as reported by the provider.

    Providers report cumulative figures for one response; the session sums the
    figures of successive attempts.
    """

    __slots__ = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")  # noqa: RUF023 (in field order)
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cached_tokens: int

    def __init__(
        self,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        reasoning_tokens: int = 0,
        cached_tokens: int = 0,
    ) -> None:
        _set(self, "input_tokens", input_tokens)
        _set(self, "output_tokens", output_tokens)
        _set(self, "reasoning_tokens", reasoning_tokens)
        _set(self, "cached_tokens", cached_tokens)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


@_event
class Finished(Event):
    """The provider said why the answer ended (``stop``, ``end_turn``, ``tool_calls``...).

    A provider emits it when it sees the stop reason; the stream is complete only
    once the provider's terminal marker has also arrived.
    """

    __slots__ = ("reason",)
    reason: str

    def __init__(self, *, reason: str) -> None:
        _set(self, "reason", reason)


@_event
class Rewind(Event):
    """Drop delivered text back to ``to`` characters (a strategy rolled back).

    ``reasoning_to``, when not None, does the same for the reasoning text (a
    thinking block cut in half is dropped and regenerated).
    """

    __slots__ = ("to", "reasoning_to")  # noqa: RUF023 (in field order)
    to: int
    reasoning_to: int | None

    def __init__(self, *, to: int, reasoning_to: int | None = None) -> None:
        _set(self, "to", to)
        _set(self, "reasoning_to", reasoning_to)

    def apply(self, text: str) -> str:
        """Return ``text`` cut back to ``to`` characters."""
        return text[: self.to]


@_event
class Retrying(Event):
    """An attempt failed and another will start after ``delay`` seconds.

    ``attempt`` is the number of the attempt about to start (the first is 1);
    ``cause`` the fault that ended the previous one; ``resume`` whether text had
    already been delivered (the next attempt resumes rather than retries).
    """

    __slots__ = ("attempt", "delay", "cause", "resume")  # noqa: RUF023 (in field order)
    attempt: int
    delay: float
    cause: BaseException
    resume: bool

    def __init__(
        self, *, attempt: int, delay: float, cause: BaseException, resume: bool = False
    ) -> None:
        _set(self, "attempt", attempt)
        _set(self, "delay", delay)
        _set(self, "cause", cause)
        _set(self, "resume", resume)


@_event
class Resumed(Event):
    """A new attempt is continuing a half-delivered answer with ``strategy``."""

    __slots__ = ("strategy", "attempt")  # noqa: RUF023 (in field order)
    strategy: str
    attempt: int

    def __init__(self, *, strategy: str, attempt: int) -> None:
        _set(self, "strategy", strategy)
        _set(self, "attempt", attempt)


@_event
class Completed(Event):
    """The answer is complete. The last event of a successful stream."""

    __slots__ = ("finish_reason", "usage")
    finish_reason: str
    usage: Usage | None

    def __init__(self, *, finish_reason: str, usage: Usage | None = None) -> None:
        _set(self, "finish_reason", finish_reason)
        _set(self, "usage", usage)


@_event
class FellBack(Event):
    """The provider in use gave up; the stream goes on with ``to_provider``.

    ``model`` is the fallback's model, ``cause`` what made ``from_provider``
    give up (its last fault), ``offset`` how many characters of text had been
    delivered when the fallback took over (0: it starts the answer afresh).
    """

    __slots__ = ("from_provider", "to_provider", "model", "cause", "offset")  # noqa: RUF023 (in field order)
    from_provider: str
    to_provider: str
    model: str
    cause: BaseException | None
    offset: int

    def __init__(
        self,
        *,
        from_provider: str,
        to_provider: str,
        model: str,
        cause: BaseException | None,
        offset: int = 0,
    ) -> None:
        _set(self, "from_provider", from_provider)
        _set(self, "to_provider", to_provider)
        _set(self, "model", model)
        _set(self, "cause", cause)
        _set(self, "offset", offset)

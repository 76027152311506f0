"""The events behave exactly as the ``@dataclass`` classes they were written from.

``streamrecover.core.events`` writes its classes out (generating them with
``@dataclass`` cost about 10 ms of import time); each is checked here against
its twin, declared below as it used to be, with the decorator.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass
from typing import Any

import pytest

from streamrecover.core import events

_DC = dataclass(frozen=True, slots=True, kw_only=True)


@_DC
class Event:
    pass


@_DC
class TextDelta(Event):
    text: str


@_DC
class ReasoningDelta(Event):
    text: str = ""
    signature: str = ""
    redacted_data: str = ""


@_DC
class ToolCallDelta(Event):
    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""
    kind: str = ""


@_DC
class Usage(Event):
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0


@_DC
class Finished(Event):
    reason: str


@_DC
class Rewind(Event):
    to: int
    reasoning_to: int | None = None


@_DC
class Retrying(Event):
    attempt: int
    delay: float
    cause: BaseException
    resume: bool = False


@_DC
class Resumed(Event):
    strategy: str
    attempt: int


@_DC
class Completed(Event):
    finish_reason: str
    usage: Usage | None = None


@_DC
class FellBack(Event):
    from_provider: str
    to_provider: str
    model: str
    cause: BaseException | None
    offset: int = 0


TWINS: dict[str, type] = {
    cls.__name__: cls
    for cls in (Event, TextDelta, ReasoningDelta, ToolCallDelta, Usage, Finished, Rewind,
                Retrying, Resumed, Completed, FellBack)
}
CAUSE = ValueError("reset")
#: Two different sets of arguments for each class (the second may be empty: defaults).
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "Event": ({}, {}),
    "TextDelta": ({"text": "Hello"}, {"text": ""}),
    "ReasoningDelta": ({"text": "so", "signature": "sig", "redacted_data": "x"}, {}),
    "ToolCallDelta": ({"index": 1, "id": "call_1", "name": "f", "arguments": "{", "kind": "k"},
                      {"index": 0}),
    "Usage": ({"input_tokens": 3, "output_tokens": 4, "reasoning_tokens": 1, "cached_tokens": 2},
              {}),
    "Finished": ({"reason": "stop"}, {"reason": "length"}),
    "Rewind": ({"to": 3, "reasoning_to": 2}, {"to": 0}),
    "Retrying": ({"attempt": 2, "delay": 0.5, "cause": CAUSE, "resume": True},
                 {"attempt": 1, "delay": 0.0, "cause": CAUSE}),
    "Resumed": ({"strategy": "exact", "attempt": 2}, {"strategy": "restart", "attempt": 3}),
    "Completed": ({"finish_reason": "stop", "usage": events.Usage(input_tokens=1)},
                  {"finish_reason": "stop"}),
    "FellBack": ({"from_provider": "openai", "to_provider": "gemini", "model": "m",
                  "cause": CAUSE, "offset": 4}, {"from_provider": "a", "to_provider": "b",
                                                 "model": "m", "cause": None}),
}
NAMES = sorted(TWINS)


def pair(name: str, which: int = 0) -> tuple[Any, Any]:
    """The same event built from our class and from its twin."""
    kwargs = SAMPLES[name][which]
    twin_kwargs = {
        key: Usage(**dataclasses.asdict(value)) if isinstance(value, events.Usage) else value
        for key, value in kwargs.items()
    }
    return getattr(events, name)(**kwargs), TWINS[name](**twin_kwargs)


def test_every_public_event_has_a_twin() -> None:
    assert sorted(events.__all__) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_class_shape_is_the_dataclass_one(name: str) -> None:
    ours, twin = getattr(events, name), TWINS[name]
    assert dataclasses.is_dataclass(ours)
    shape = [(f.name, f.type, f.default, f.kw_only, f.init, f.repr, f.compare, f.hash)
             for f in dataclasses.fields(ours)]
    assert shape == [(f.name, f.type, f.default, f.kw_only, f.init, f.repr, f.compare, f.hash)
                     for f in dataclasses.fields(twin)]
    assert repr(ours.__dataclass_params__) == repr(twin.__dataclass_params__)
    assert ours.__slots__ == twin.__slots__
    assert ours.__match_args__ == twin.__match_args__ == ()
    assert str(inspect.signature(ours)) == str(inspect.signature(twin))
    assert ours.__annotations__ == twin.__annotations__
    assert not hasattr(ours(**SAMPLES[name][1]), "__dict__")
    assert issubclass(ours, events.Event)


@pytest.mark.parametrize("name", NAMES)
def test_repr_equality_and_hash_are_the_dataclass_ones(name: str) -> None:
    ours, twin = pair(name)
    other, other_twin = pair(name, 1)
    assert repr(ours) == repr(twin)
    assert repr(other) == repr(other_twin)
    again = getattr(events, name)(**SAMPLES[name][0])
    assert ours == again and hash(ours) == hash(again) == hash(twin)
    assert (ours == other) is (twin == other_twin)
    assert (hash(ours) == hash(other)) is (hash(twin) == hash(other_twin))
    assert ours != twin  # another class, as between two dataclasses
    assert ours.__eq__(object()) is NotImplemented


def test_events_of_different_classes_with_equal_fields_differ() -> None:
    assert events.TextDelta(text="a") != events.Finished(reason="a")
    assert events.Event() == events.Event()
    assert len({events.TextDelta(text="a"), events.TextDelta(text="a")}) == 1


@pytest.mark.parametrize("name", NAMES)
def test_events_are_frozen_as_dataclasses(name: str) -> None:
    for target in SAMPLES[name][0]:
        messages = []
        for event in pair(name):
            with pytest.raises(dataclasses.FrozenInstanceError) as assigned:
                setattr(event, target, 1)
            with pytest.raises(dataclasses.FrozenInstanceError) as deleted:
                delattr(event, target)
            messages.append((str(assigned.value), str(deleted.value)))
        assert messages[0] == messages[1]
        assert messages[0][0] == f"cannot assign to field {target!r}"
    # Another attribute: a slotted frozen dataclass of Python 3.11 fails with a
    # TypeError from inside its generated __setattr__ (it checks against the
    # class from before slots were added); the events refuse it as frozen.
    with pytest.raises(dataclasses.FrozenInstanceError, match="not_a_field"):
        pair(name)[0].not_a_field = 1


@pytest.mark.parametrize("name", NAMES)
def test_pickle_and_copy_round_trip_with_the_dataclass_state(name: str) -> None:
    ours, twin = pair(name)
    assert repr(ours.__reduce_ex__(4)[2]) == repr(twin.__reduce_ex__(4)[2])
    # An exception (``cause``) equals only itself: a copy is compared by repr.
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(ours, protocol))
        assert type(back) is type(ours)
        assert repr(back) == repr(pickle.loads(pickle.dumps(twin, protocol))).replace(
            f"{__name__}.", "")
    assert copy.copy(ours) == ours
    assert repr(copy.deepcopy(ours)) == repr(ours)


@pytest.mark.parametrize("name", NAMES)
def test_dataclasses_functions_work_on_events(name: str) -> None:
    ours, twin = pair(name)
    # astuple and asdict deep-copy the values (an exception then equals no copy).
    assert repr(dataclasses.astuple(ours)) == repr(dataclasses.astuple(twin))
    assert repr(dataclasses.asdict(ours)) == repr(dataclasses.asdict(twin))
    assert dataclasses.replace(ours) == ours
    assert [f.name for f in dataclasses.fields(ours)] == list(SAMPLES[name][0])


def test_replace_builds_a_new_event() -> None:
    usage = events.Usage(input_tokens=1)
    assert dataclasses.replace(usage, output_tokens=2) == events.Usage(
        input_tokens=1, output_tokens=2
    )


def test_constructor_errors_are_the_dataclass_ones() -> None:
    for call in (lambda cls: cls(), lambda cls: cls("x"), lambda cls: cls(text="x", y=1)):
        with pytest.raises(TypeError) as ours:
            call(events.TextDelta)
        with pytest.raises(TypeError) as twin:
            call(TextDelta)
        assert str(ours.value) == str(twin.value)


def test_match_by_keyword_and_methods() -> None:
    match events.TextDelta(text="hi"):
        case events.TextDelta(text=text):
            assert text == "hi"
        case _:
            pytest.fail("no match")
    assert events.Usage(input_tokens=1) + events.Usage(output_tokens=2) == events.Usage(
        input_tokens=1, output_tokens=2
    )
    assert events.Rewind(to=2).apply("hello") == "he"


def test_a_dataclass_can_derive_from_an_event() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Tagged(events.TextDelta):
        tag: str = ""

    tagged = Tagged(text="a", tag="t")
    assert repr(tagged).endswith("Tagged(text='a', tag='t')")
    assert [f.name for f in dataclasses.fields(tagged)] == ["text", "tag"]
    assert tagged != events.TextDelta(text="a")
    with pytest.raises(TypeError, match="non-frozen"):
        dataclass(type("Loose", (events.TextDelta,), {"__annotations__": {"x": "int"}}))


def test_a_plain_subclass_keeps_the_fields_of_its_event() -> None:
    shown = []
    for base in (events.TextDelta, TextDelta):

        class Marked(base):  # type: ignore[valid-type,misc]
            __slots__ = ("mark",)

        marked = Marked(text="a")
        object.__setattr__(marked, "mark", 1)
        if base is events.TextDelta:
            # Not a field of the frozen base: allowed (the 3.11 dataclass fails
            # there with a TypeError, the slots bug noted above).
            marked.mark = 2
        assert [f.name for f in dataclasses.fields(marked)] == ["text"]
        assert marked == Marked(text="a")
        with pytest.raises(dataclasses.FrozenInstanceError):
            marked.text = "b"
        shown.append(repr(marked))
    assert shown[0] == shown[1]

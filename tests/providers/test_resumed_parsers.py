"""Parsers for natively resumed streams continue the broken parser's state."""

from __future__ import annotations

from collections.abc import Callable

from streamrecover.core.events import Finished, TextDelta, ToolCallDelta
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers import get_provider

Loader = Callable[[str], list[ServerSentEvent]]


def responses_event(kind: str, sequence: int, **fields: str) -> ServerSentEvent:
    extra = "".join(f', "{key}": "{value}"' for key, value in fields.items())
    return ServerSentEvent(
        event=kind, data=f'{{"type": "{kind}", "sequence_number": {sequence}{extra}}}'
    )


def test_responses_resumed_parser_skips_replays_and_continues_the_tool_call(
    transcript: Loader,
) -> None:
    provider = get_provider("openai-responses")
    first = provider.new_parser()
    events = transcript("openai-responses/tool_call.sse")
    for event in events[:3]:  # created, item added, first arguments delta
        first.feed(event)
    point = first.resume_point
    assert (point.response_id, point.sequence_number) == ("resp_tool", 2)

    second = provider.new_parser(resume_from=first)
    assert second.resume_point == point
    assert not second.complete and not second.failed
    # starting_after=2: a server that repeats event 2 is not believed twice.
    assert second.feed(events[2]) == []
    assert second.feed(events[3]) == [ToolCallDelta(index=0, arguments='"Paris, France"}')]
    for event in events[4:]:
        second.feed(event)
    assert second.complete
    assert second.resume_point.sequence_number == 8


def test_responses_fresh_parser_does_not_skip_repeated_sequence_numbers() -> None:
    parser = get_provider("openai-responses").new_parser()
    delta = "response.output_text.delta"
    assert parser.feed(responses_event(delta, 0, delta="a")) == [TextDelta(text="a")]
    assert parser.feed(responses_event(delta, 0, delta="b")) == [TextDelta(text="b")]


def test_anthropic_resumed_parser_knows_the_open_tool_block(transcript: Loader) -> None:
    provider = get_provider("anthropic")
    events = transcript("anthropic/tool_use.sse")
    first = provider.new_parser()
    for event in events[:7]:  # up to the first input_json_delta of block 1
        first.feed(event)
    second = provider.new_parser(resume_from=first)
    assert second.feed(events[7]) == [ToolCallDelta(index=0, arguments=' "San Francisco, CA"}')]
    # The next tool call keeps its ordinal.
    assert second.feed(events[9]) == [ToolCallDelta(index=1, id="toolu_02", name="get_time")]


def test_openai_resumed_parser_keeps_the_finish_reason() -> None:
    provider = get_provider("openai")
    first = provider.new_parser()
    finish = '{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}'
    assert first.feed(ServerSentEvent(data=finish, id="9")) == [Finished(reason="stop")]
    assert first.resume_point.last_event_id == "9"
    second = provider.new_parser(resume_from=first)
    assert second.resume_point.last_event_id == "9"
    second.feed(ServerSentEvent(data="[DONE]", id="10"))
    assert second.complete
    second.finish()


def test_gemini_resumed_parser_numbers_tool_calls_on() -> None:
    provider = get_provider("gemini")
    call = '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}}]}'
    first = provider.new_parser()
    first.feed(ServerSentEvent(data=call))
    second = provider.new_parser(resume_from=first)
    assert second.feed(ServerSentEvent(data=call)) == [
        ToolCallDelta(index=1, name="f", arguments="{}")
    ]

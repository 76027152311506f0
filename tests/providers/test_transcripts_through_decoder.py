"""Every golden transcript, fed byte by byte to the real SSEDecoder, gives the
same events as the provider tests' splitter, and parses to the same content."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from streamrecover.core.errors import Fault
from streamrecover.core.sse import SSEDecoder
from streamrecover.providers import get_provider

# Loaded by path: the module name "conftest" belongs to whichever conftest came first.
_SPEC = importlib.util.spec_from_file_location(
    "provider_test_helpers", Path(__file__).with_name("conftest.py")
)
assert _SPEC is not None and _SPEC.loader is not None
_HELPERS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_HELPERS)
TRANSCRIPTS: Path = _HELPERS.TRANSCRIPTS
events_from_transcript = _HELPERS.events_from_transcript

FILES = sorted(path for path in TRANSCRIPTS.rglob("*") if path.is_file())


def decode_byte_by_byte(raw: bytes) -> list[object]:
    decoder = SSEDecoder()
    events: list[object] = []
    for index in range(len(raw)):
        events.extend(decoder.feed(raw[index : index + 1]))
    events.extend(decoder.feed(b""))
    return events


def test_there_are_transcripts_for_every_provider() -> None:
    assert {path.relative_to(TRANSCRIPTS).parts[0] for path in FILES} == {
        "anthropic",
        "gemini",
        "openai",
        "openai-responses",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TRANSCRIPTS)))
def test_real_decoder_agrees_with_the_splitter(path: Path) -> None:
    raw = path.read_bytes()
    expected = events_from_transcript(raw)
    assert decode_byte_by_byte(raw) == expected
    # And the provider turns the decoder's events into the same content events.
    provider = get_provider(path.relative_to(TRANSCRIPTS).parts[0])

    def content(events: list[object]) -> list[object]:
        parser = provider.new_parser()
        out: list[object] = []
        try:
            for event in events:
                out.extend(parser.feed(event))  # type: ignore[arg-type]
        except Fault as fault:
            out.append(type(fault).__name__)
        return out

    assert content(decode_byte_by_byte(raw)) == content(list(expected))

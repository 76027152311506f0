"""The product's promise as a property: whatever breaks, the consumer ends with the answer.

For any reference answer, any 1-3 cuts at arbitrary byte offsets of the SSE
stream (mid-event, mid-UTF-8 character), any chunking of the bytes, any
overlap the continuation repeats, and the strategies exact / paragraph /
restart, the consumer's text (TextDelta appends, Rewind cuts) equals the
reference exactly, and equals ``session.text`` after every call.

The fake server plays an ideal model: given the committed text, it continues
the reference from where the model saw it end. With a prefill the model saw
the text with its trailing whitespace stripped, so it writes that whitespace
again; without one it may or may not (both are drawn where both are exact).
It may also repeat a whole-word tail of the committed text (the overlap k).

So that the property is a theorem and not a bet, each overlap is drawn only
where ``stitch.py``'s documented rules read it unambiguously: the repeated
tail is the only suffix of the committed text the continuation starts with
(rule 2 then removes exactly it: its gap to the next candidate, 0, is at
least ``min_overlap``, or it is a short whole word ending at a word end), and
the continuation does not reproduce the answer's first ``restart_threshold``
characters unless it repeats the whole committed text (rule 1). The residual
ambiguities the stitcher documents (a word doubled exactly at the cut, short
periodic text across the seam) are exactly what these conditions exclude.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from _frames import BODIES, SSE_HEADERS, answer_stream
from hypothesis import assume, event, given
from hypothesis import strategies as st

from streamrecover.core.errors import TransportError
from streamrecover.core.events import Completed, Event, Resumed, Rewind, TextDelta
from streamrecover.core.policy import RetryPolicy
from streamrecover.core.session import RecoverySession, Retry, SessionState
from streamrecover.providers import get_provider

MIN_OVERLAP = 8  # Stitcher's default min_overlap
RESTART_THRESHOLD = 32  # Stitcher's default restart_threshold
EARLY_RESTART = 8  # the shortest opening rule 1b reads as a restart

# Graphemes: ASCII, Latin-1 and composed accents, a combining sequence, CJK,
# emoji (4-byte UTF-8), a skin-tone modifier, a ZWJ family and a flag.
GRAPHEMES = [
    *"abcdefghijklmnopqrstuvwxyz",
    *"ABCXYZ0123",
    "é", "ß", "ø", "e\u0301", "中", "文", "ж",
    "👋", "👍🏽", "🇫🇷", "👨\u200d👩\u200d👧",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", "\n\n", "  ", "\t", " - "]

words = st.lists(st.sampled_from(GRAPHEMES), min_size=1, max_size=9).map("".join)
pieces = st.lists(st.one_of(words, st.sampled_from(SEPARATORS)), min_size=1, max_size=50)
references = pieces.map("".join).filter(lambda text: text.strip() != "")


def split(text: Any, cuts: Sequence[int]) -> list[Any]:
    """Cut ``text`` (str or bytes) at the given offsets; nothing gives no pieces."""
    if not text:
        return []
    points = sorted({cut for cut in cuts if 0 < cut < len(text)})
    return [text[start:end] for start, end in zip([0, *points], [*points, len(text)], strict=True)]


def candidates(stripped: str, continuation: str) -> set[int]:
    """Every length L of a suffix of ``stripped`` that ``continuation`` starts with."""
    limit = min(len(stripped), len(continuation))
    return {size for size in range(1, limit + 1) if continuation.startswith(stripped[-size:])}


def common_prefix(first: str, second: str) -> int:
    size = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        size += 1
    return size


def whole_word_tails(stripped: str, after: str) -> list[int]:
    """Lengths of the tails of ``stripped`` starting at a word start that rule 2 removes.

    ``after`` is what follows the tail in the continuation.
    """
    lengths = []
    for start in range(len(stripped)):
        if stripped[start].isspace() or (start and not stripped[start - 1].isspace()):
            continue
        tail = stripped[start:]
        if len(tail) >= MIN_OVERLAP:
            lengths.append(len(tail))
        elif tail.isascii() and tail.isalpha() and (not after or _ends_word(after[0])):
            lengths.append(len(tail))  # a short whole word ending at a word end
    return lengths


def _ends_word(ch: str) -> bool:
    # Whitespace or ASCII punctuation: a combining mark, for one, continues the word.
    return ch.isspace() or (ch.isascii() and not ch.isalnum() and ch != "_")


def unambiguous(stripped: str, overlap: int, continuation: str) -> bool:
    found = candidates(stripped, continuation)
    if found != ({overlap} if overlap else set()):
        return False
    # Below RESTART_THRESHOLD an opening of 8 or more characters may be read as
    # an early-diverging restart (rule 1b): such draws are not "ideal" continuations.
    return overlap == len(stripped) or common_prefix(continuation, stripped) < EARLY_RESTART


def continuation_for(
    committed: str, reference: str, data: st.DataObject, *, saw_whitespace: bool = False
) -> str:
    """What the ideal model sends to continue ``committed`` (drawn where ambiguous).

    ``saw_whitespace``: the resume request showed the model ``committed`` whole
    (no prefill, or a prefill that keeps trailing whitespace), so it goes on
    after the whitespace rather than writing it again.
    """
    assert reference.startswith(committed)
    stripped = committed if saw_whitespace else committed.rstrip()
    seam = committed[len(stripped) :]
    after_seam = reference[len(committed) :]
    rest_options = [reference[len(stripped) :]]  # the stripped whitespace written again
    if seam and not after_seam[:1].isspace():
        rest_options.append(after_seam)  # or not (rule 3 keeps the consumer's seam)
    rest = data.draw(st.sampled_from(rest_options), label="rest")
    overlaps = [0, *whole_word_tails(stripped, rest)] if stripped else [0]
    valid = [k for k in overlaps if unambiguous(stripped, k, stripped[len(stripped) - k :] + rest)]
    assume(valid)
    overlap = data.draw(st.sampled_from(valid), label="overlap")
    event(f"overlap {'0' if not overlap else '>0'}; rewrite seam {rest == rest_options[0]}")
    return stripped[len(stripped) - overlap :] + rest


class Consumer:
    """Applies events like a real consumer and checks it agrees with the session."""

    def __init__(self, session: RecoverySession) -> None:
        self.session = session
        self.text = ""
        self.events: list[Event] = []

    def take(self, events: list[Event]) -> None:
        for item in events:
            if isinstance(item, TextDelta):
                self.text += item.text
            elif isinstance(item, Rewind):
                assert item.to <= len(self.text)
                self.text = item.apply(self.text)
        self.events += events
        assert self.text == self.session.text


def feed(consumer: Consumer, chunks: Sequence[bytes]) -> None:
    session = consumer.session
    for chunk in chunks:
        consumer.take(session.receive_data(chunk))
        if session.state is not SessionState.STREAMING:
            return


def play(
    *,
    reference: str,
    provider: str,
    strategy: Any,
    faults: int,
    seed: int,
    data: st.DataObject,
    eof: bool = False,
) -> None:
    """Run one stream with ``faults`` cuts, each a reset (or, with ``eof``, a clean EOF)."""
    session = RecoverySession(
        get_provider(provider),
        BODIES[provider],
        strategy=strategy,
        policy=RetryPolicy(max_retries=3, max_resumes=3),
        rng=random.Random(seed),
    )
    consumer = Consumer(session)
    for attempt in range(faults + 1):
        session.next_request()
        consumer.take(session.take_events())  # Resumed, if this attempt resumes
        committed = session.text
        saw_whitespace = not (
            session.provider.supports_prefill(BODIES[provider])
            and session.provider.prefill_strips_whitespace()
        )
        sent = (
            reference
            if not committed
            else continuation_for(committed, reference, data, saw_whitespace=saw_whitespace)
        )
        deltas = split(sent, data.draw(st.lists(st.integers(1, max(1, len(sent) - 1)), max_size=6)))
        body = answer_stream(provider, deltas)
        if attempt < faults:
            # Cut anywhere before the last byte: the terminal event never completes.
            # Half the draws fall where the text events are: most bytes are framing.
            last = len(body) - 1
            text_start = len(answer_stream(provider, deltas[:1], complete=False))
            text_end = min(last, len(answer_stream(provider, deltas, complete=False)))
            cut = st.integers(0, last) | st.integers(min(text_start, text_end), text_end)
            body = body[: data.draw(cut, label="cut")]
        chunks = split(body, data.draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=8)))
        session.response_started(200, SSE_HEADERS)
        feed(consumer, chunks)
        if attempt < faults:
            if eof:
                consumer.take(session.receive_data(b""))
            else:
                session.connection_failed(TransportError("reset", kind="reset"))
                consumer.take(session.take_events())
            assert isinstance(session.decision(), Retry)
    assert session.state is SessionState.DONE
    assert isinstance(consumer.events[-1], Completed)
    assert consumer.text == session.text == reference
    rewinds = [item for item in consumer.events if isinstance(item, Rewind)]
    if strategy == "exact":
        # Nothing to roll back: every overlap was read as the tail it repeats.
        assert not rewinds
    if strategy == "restart":
        assert all(rewind.to == 0 for rewind in rewinds)
    resumed = [item for item in consumer.events if isinstance(item, Resumed)]
    assert len(resumed) == session.resumes
    event(f"resumes {session.resumes}, retries {session.retries}, rewinds {len(rewinds)}")


STREAMS = {
    "reference": references,
    "provider": st.sampled_from(["openai", "anthropic", "gemini", "openai-responses"]),
    "strategy": st.sampled_from(["exact", "paragraph", "restart"]),
    "faults": st.integers(min_value=1, max_value=3),
    "seed": st.integers(min_value=0, max_value=2**32 - 1),
    "data": st.data(),
}


@given(**STREAMS)
def test_the_consumer_always_ends_with_the_reference_answer(
    **stream: Any,
) -> None:
    play(**stream)


# Regression (a bug of 7efbafb, fixed in 0172bab): at EOF without the terminal marker the session
# finishes the stitcher before failing the attempt, releasing held overlap candidates (duplicated
# text)
@given(**STREAMS)
def test_the_consumer_ends_with_the_reference_when_the_faults_are_truncations(
    **stream: Any,
) -> None:
    play(**stream, eof=True)

"""Play seam cases through the public :class:`~streamrecover.client.Client` over loopback.

One fake provider server per wire format answers every case in turn: the first
request streams the committed text in token-shaped deltas and closes the
connection before the end of the answer (a clean close, not a reset: a reset may
discard frames still in flight, which would move the cut by timing); the
resume request is inspected (:func:`inspect_request`), and the continuation
is derived from what it showed the model
(:func:`~streamrecover.testing.seams.cases.continuation_for`). The consumer's
text (``Rewind`` applied) is then compared with the text it must end with.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from streamrecover.testing.conformance.observed import Observed
from streamrecover.testing.conformance.scenario import API_KEY, request_body
from streamrecover.testing.fakeprovider import (
    Answer,
    Expectations,
    inspect_request,
    render_frames,
)
from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.scripts import build_script
from streamrecover.testing.seams.cases import SeamCase, continuation_for
from streamrecover.testing.seams.tokens import deltas
from streamrecover.testing.server import RecordedRequest, Step, http_response

__all__ = ["Outcome", "SeamPlayer", "SeamResult", "classify", "play_cases"]

Outcome = Literal["exact", "duplicated", "lost", "garbled", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeamResult:
    """How one case came out for one provider.

    ``duplicated`` and ``lost`` count characters (the length difference, and
    for a garbled text the characters of the expected text not reproduced).
    """

    case: SeamCase
    provider: str
    prefill: bool
    outcome: Outcome
    expected: str
    text: str
    duplicated: int = 0
    lost: int = 0
    detail: str = ""

    @classmethod
    def judged(
        cls, case: SeamCase, provider: str, *, prefill: bool, text: str, expected: str
    ) -> SeamResult:
        """The result of ``case`` whose consumer ended with ``text``, against ``expected``."""
        outcome, duplicated, lost = classify(text, expected)
        return cls(
            case=case,
            provider=provider,
            prefill=prefill,
            outcome=outcome,
            expected=expected,
            text=text,
            duplicated=duplicated,
            lost=lost,
        )


def classify(text: str, expected: str) -> tuple[Outcome, int, int]:
    """Compare the consumer's text with the expected one: (outcome, duplicated, lost)."""
    if text == expected:
        return "exact", 0, 0
    head = 0
    limit = min(len(text), len(expected))
    while head < limit and text[head] == expected[head]:
        head += 1
    tail = 0
    while tail < limit - head and text[-1 - tail] == expected[-1 - tail]:
        tail += 1
    extra = len(text) - head - tail
    missing = len(expected) - head - tail
    if missing <= 0:
        return "duplicated", extra, 0
    if extra <= 0:
        return "lost", 0, missing
    return "garbled", extra, missing


class _Handler:
    """The fake provider: the case being played, and what its requests showed."""

    def __init__(self, provider: str, body: dict[str, Any]) -> None:
        self.provider = provider
        self.body = body
        self.lock = threading.Lock()
        self.case: SeamCase | None = None
        self.requests = 0
        self.expected = ""
        self.prefill = False
        self.problem = ""

    def start(self, case: SeamCase) -> None:
        with self.lock:
            self.case = case
            self.requests = 0
            self.expected = case.text
            self.prefill = False
            self.problem = ""

    def __call__(self, request: RecordedRequest, index: int) -> list[Step]:
        with self.lock:
            case = self.case
            assert case is not None
            number = self.requests
            self.requests += 1
            rng = random.Random(case.seed * 4 + number)
            if number == 0:
                pieces, rest = self.first_deltas(case, rng)
                first = Answer(text=case.text, text_deltas=pieces + rest)
                frames = render_frames(self.provider, first)
                return build_script(
                    self.provider, frames, {"fault": "close", "after_text": len(pieces)}
                )
            expect = Expectations(reference=case.text, api_key=API_KEY)
            inspection = inspect_request(self.provider, self.body, request, expect)
            if inspection.kind != "continuation" or number > 1:
                self.problem = f"request {number}: {inspection.kind} {inspection.problems}"
                return http_response(400, inspection.error_response())
            self.prefill = inspection.prefill
            continuation, self.expected = self.continuation(case, inspection.partial)
            pieces = self.continuation_deltas(case, continuation, rng)
            answer = Answer(text=continuation, text_deltas=pieces, response_id="resp_fake_2")
            return build_script(self.provider, render_frames(self.provider, answer), {})

    # What a corpus changes: its deltas and how it derives the continuation.

    def first_deltas(
        self, case: Any, rng: random.Random
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The first attempt's deltas: those delivered before the cut, and the rest."""
        pieces = tuple(deltas(case.committed, rng))
        # The whole answer, cut after the committed deltas (Gemini sends its
        # finish reason with the last text piece: it must not be sent).
        return pieces, tuple(deltas(case.text[case.cut :], rng))

    def continuation(self, case: Any, partial: str) -> tuple[str, str]:
        """The continuation of what the resume request showed, and the answer expected."""
        return continuation_for(case, partial)

    def continuation_deltas(
        self, case: Any, continuation: str, rng: random.Random
    ) -> tuple[str, ...]:
        """The continuation's deltas."""
        return tuple(deltas(continuation, rng))


class SeamPlayer:
    """A loopback fake provider and a real :class:`Client`, playing cases one at a time.

    Use as a context manager. ``prefill`` is passed to the client (None: the
    provider decides from the model, which gives Anthropic's prefill for the
    default ``claude-sonnet-4-5`` and no prefill elsewhere).
    """

    def __init__(self, provider: str, *, prefill: bool | None = None) -> None:
        self.provider = provider
        self.body = request_body(provider, {})
        self._handler = _Handler(provider, self.body)
        self._prefill = prefill
        self._server: HandlerServer | None = None
        self._client: Any = None

    def __enter__(self) -> SeamPlayer:
        from streamrecover.client import Client
        from streamrecover.core.policy import RetryPolicy
        from streamrecover.transport import Timeouts

        self._server = HandlerServer(self._handler)
        base = self._server.url("/v1") if self.provider.startswith("openai") else self._server.url()
        self._client = Client(
            self.provider,
            api_key=API_KEY,
            base_url=base,
            retry=RetryPolicy(backoff_base=0.0005, backoff_cap=0.001),
            strategy="exact",
            storage="memory://",
            prefill=self._prefill,
            timeouts=Timeouts(connect=5.0, read=5.0, idle=5.0, write=5.0),
            rng=random.Random(11),
            budget=None,  # every case resumes once: a shared budget would run dry
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._server is not None:
            self._server.stop()

    def play(self, case: SeamCase) -> SeamResult:
        """Play one case; never raises for what the library does wrong (``failed``)."""
        self._handler.start(case)
        observed = Observed()
        detail = ""
        try:
            stream = self._client.stream(**self.body)
            with stream:
                for event in stream:
                    observed.feed(event)
        except Exception as exc:  # the library failed this seam: report, go on
            detail = f"{type(exc).__name__}: {exc}"
        handler = self._handler
        if handler.problem:
            detail = handler.problem
        expected = handler.expected
        if detail:
            return SeamResult(
                case=case,
                provider=self.provider,
                prefill=handler.prefill,
                outcome="failed",
                expected=expected,
                text=observed.text,
                detail=detail,
            )
        return SeamResult.judged(
            case, self.provider, prefill=handler.prefill, text=observed.text, expected=expected
        )


def play_cases(
    cases: Iterable[SeamCase], providers: Iterable[str], *, prefill: bool | None = None
) -> Iterator[SeamResult]:
    """Play every case for every provider (one server and one client per provider)."""
    cases = list(cases)
    for provider in providers:
        with SeamPlayer(provider, prefill=prefill) as player:
            for case in cases:
                yield player.play(case)

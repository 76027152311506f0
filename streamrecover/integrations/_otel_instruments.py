"""The metric instruments streamrecover records, with the GenAI conventions' buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


__all__ = ["Instruments"]

#: Bucket boundaries the GenAI conventions recommend for durations (s) and tokens.
_SECONDS_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
_TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip


class Instruments:
    """The metric instruments of one meter.

    GenAI conventions: ``gen_ai.client.operation.duration`` (s),
    ``gen_ai.client.token.usage`` ({token}, with ``gen_ai.token.type``),
    ``gen_ai.client.operation.time_to_first_chunk`` (s). The library's own:
    ``streamrecover.stream.attempts`` (requests per logical stream),
    ``streamrecover.retries`` and ``streamrecover.resumes`` (by cause, resumes
    also by strategy), ``streamrecover.recovery.duration`` (fault to the first
    resumed content, s), ``streamrecover.overlap.removed`` (characters the
    stitcher dropped), ``streamrecover.streams.given_up`` (by reason) and
    ``streamrecover.budget.refusals`` (retries the retry budget refused).
    """

    def __init__(self, meter: Any) -> None:
        seconds = {"unit": "s", "explicit_bucket_boundaries_advisory": _SECONDS_BUCKETS}
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", description="GenAI operation duration.", **seconds
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            description="Time from issuing the request to the first chunk of the stream.",
            **seconds,
        )
        self.attempts = meter.create_histogram(
            "streamrecover.stream.attempts",
            unit="{attempt}",
            description="Requests sent for one logical stream, the first included.",
            explicit_bucket_boundaries_advisory=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20),
        )
        self.retries = meter.create_counter(
            "streamrecover.retries",
            unit="{retry}",
            description="Attempts repeated before any text was delivered.",
        )
        self.resumes = meter.create_counter(
            "streamrecover.resumes",
            unit="{resume}",
            description="Continuations of a half-delivered answer.",
        )
        self.recovery = meter.create_histogram(
            "streamrecover.recovery.duration",
            description="Time from a fault to the first content of the resumed attempt.",
            **seconds,
        )
        self.overlap = meter.create_counter(
            "streamrecover.overlap.removed",
            unit="{char}",
            description="Characters of continuation text dropped as a repeat of delivered text.",
        )
        self.given_up = meter.create_counter(
            "streamrecover.streams.given_up",
            unit="{stream}",
            description="Streams that ended without a complete answer, by reason.",
        )
        self.budget_refusals = meter.create_counter(
            "streamrecover.budget.refusals",
            unit="{retry}",
            description="Retries or resumes the shared retry budget refused.",
        )

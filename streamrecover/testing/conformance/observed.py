"""What a scenario run saw: the consumer's view of one stream, and the run's result."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamrecover.core.events import (
    Event,
    ReasoningDelta,
    Resumed,
    Rewind,
    TextDelta,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The outcome of one scenario run. ``failures`` is empty when it conformed."""

    scenario: str
    provider: str
    adapter: str
    storage: str
    failures: tuple[str, ...]
    outcome: str = ""
    attempts: int = 0
    resumes: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures


@dataclass(slots=True, kw_only=True)
class Observed:
    """What one stream's consumer saw."""

    events: list[Event] = field(default_factory=list)
    text: str = ""
    reasoning: str = ""
    text_at_resume: dict[int, str] = field(default_factory=dict)
    stream_text: str = ""
    recovery_id: str | None = None
    attempts: int = 0
    resumes: int = 0
    overlap_removed: int = 0
    error: BaseException | None = None

    def feed(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
        elif isinstance(event, Rewind):
            self.text = event.apply(self.text)
            if event.reasoning_to is not None:
                self.reasoning = self.reasoning[: event.reasoning_to]
        elif isinstance(event, Resumed):
            self.text_at_resume[event.attempt] = self.text

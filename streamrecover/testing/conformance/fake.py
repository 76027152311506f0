"""The fake provider behind one scenario run: inspect a request, pick the answer, play the fault."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamrecover.testing.conformance.scenario import API_KEY, Scenario
from streamrecover.testing.fakeprovider import (
    Expectations,
    Frame,
    Inspection,
    continuation_answer,
    inspect_request,
    render_frames,
)
from streamrecover.testing.scripts import build_script, cut_offset, frames_sent
from streamrecover.testing.server import RecordedRequest, Step, http_response


@dataclass(slots=True, kw_only=True)
class SeenRequest:
    """One request the fake provider answered, with the attempt number it belongs to."""

    attempt: int
    inspection: Inspection


class ScenarioProvider:
    """The request handler: inspect, choose the answer, play the attempt's fault."""

    def __init__(self, scenario: Scenario, provider: str, body: Mapping[str, Any]) -> None:
        self.scenario = scenario
        self.provider = provider
        self.body = body
        self.reference = scenario.answer(provider)
        self.offset = scenario.refused_first
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        # For native resume (Responses, background): the last event delivered.
        self._native_frames = render_frames(provider, self.reference)
        self._native_point: tuple[str, int] | None = None
        self._strategy = str(scenario.client.get("strategy", "exact"))
        prefill = scenario.client.get("prefill")
        self._prefill = None if prefill is None else bool(prefill)

    def handle(self, request: RecordedRequest, index: int) -> list[Step]:
        with self._lock:
            attempt = index + self.offset
            native = self._native_point if self.scenario.streams == 1 else None
            expect = Expectations(
                reference=self.reference.text,
                strategy=self._strategy,
                prefill=self._prefill,
                api_key=API_KEY,
                native_point=native,
            )
            inspection = inspect_request(self.provider, self.body, request, expect)
            self.seen.append(SeenRequest(attempt=attempt, inspection=inspection))
            if not inspection.ok:
                return http_response(400, inspection.error_response())
            frames = self._frames(inspection)
            step = self.scenario.step(attempt)
            script = build_script(self.provider, frames, step)
            self._track_native(frames, step)
            return script

    def _frames(self, inspection: Inspection) -> list[Frame]:
        if inspection.kind == "native_resume":
            after = inspection.starting_after if inspection.starting_after is not None else -1
            return [
                f
                for f in self._native_frames
                if f.sequence_number is None or f.sequence_number > after
            ]
        if inspection.kind == "continuation":
            options = self.scenario.continuation
            answer = continuation_answer(
                self.reference,
                inspection,
                overlap=int(options.get("overlap", 0)),
                overlap_unit=options.get("overlap_unit", "chars"),
                restart=bool(options.get("restart", False)),
            )
            return render_frames(self.provider, answer)
        return render_frames(self.provider, self.reference)

    def _track_native(self, frames: Sequence[Frame], step: Mapping[str, Any]) -> None:
        if self.body.get("background") is not True or step.get("fault") in ("http", "refused"):
            return
        fault = step.get("fault", "none")
        if fault == "reset" and step.get("before_headers"):
            return
        offset = sum(len(f.data) for f in frames)
        if fault not in ("none", "drip", "pause"):
            offset = cut_offset(frames, step)
        sent = frames_sent(frames, offset)
        if self._native_point is None and not any(f.kind in ("text", "reasoning") for f in sent):
            return  # nothing was delivered: the next attempt is a plain retry
        numbers = [f.sequence_number for f in sent if f.sequence_number is not None]
        if numbers:
            self._native_point = (self.reference.response_id, numbers[-1])

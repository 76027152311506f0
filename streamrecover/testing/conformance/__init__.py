"""The conformance runner: play declarative fault scenarios against the real client.

A scenario (one JSON file in ``streamrecover/testing/scenarios/``, described in
``conformance/README.md``) says which providers it applies to, how to build the
request, how to configure the client, what each attempt's connection does
(reset after the 4th text frame, answer 529 with ``Retry-After: 0``, stall past
the idle timeout...) and what must come out. :func:`run_scenario` plays one
scenario for one provider, adapter (``sync``, ``asyncio``, ``trio``) and
storage against a :class:`~streamrecover.testing.handler_server.HandlerServer`
that speaks the provider's wire format (:mod:`streamrecover.testing.fakeprovider`),
and returns a :class:`Result`. :func:`run_matrix` plays many and
:func:`format_matrix` prints them; ``streamrecover conformance`` is built on
those two, and a third party can pass its own storage URL or transport.

Every successful run is checked for the exact-text invariant (the consumer's
text after applying ``Rewind`` events equals the reference answer), the
reasoning and tool call, the stored record (its text equals ``stream.text``),
and every request the server received (see
:func:`~streamrecover.testing.fakeprovider.inspect_request`; a bad request is
answered with HTTP 400 and fails the run). A run that gives up is checked for
a consistent ``StreamInterrupted`` and stored record.

The package holds one idea per module: :mod:`.scenario` (the scenario model,
the loader and the request body a scenario sends), :mod:`.fake` (the fake
provider behind one run), :mod:`.observed` (what a run saw, and its result),
:mod:`.run` (playing one scenario on an adapter), :mod:`.checks` (what every
run is held to) and :mod:`.matrix` (many runs, and their table).
"""

from __future__ import annotations

from streamrecover.testing.conformance.matrix import (
    TIMING_FAULTS,
    Case,
    format_matrix,
    matrix_cases,
    resolve_storage_url,
    run_matrix,
)
from streamrecover.testing.conformance.observed import Result
from streamrecover.testing.conformance.run import run_scenario
from streamrecover.testing.conformance.scenario import (
    ADAPTERS,
    API_KEY,
    DEFAULT_SCENARIO_DIR,
    Scenario,
    load_scenarios,
    request_body,
)

__all__ = [
    "ADAPTERS",
    "API_KEY",
    "DEFAULT_SCENARIO_DIR",
    "TIMING_FAULTS",
    "Case",
    "Result",
    "Scenario",
    "format_matrix",
    "load_scenarios",
    "matrix_cases",
    "request_body",
    "resolve_storage_url",
    "run_matrix",
    "run_scenario",
]

"""The matrix: every scenario x provider x adapter x storage, played and printed."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamrecover.testing.conformance.observed import Result
from streamrecover.testing.conformance.run import run_scenario
from streamrecover.testing.conformance.scenario import ADAPTERS, Scenario, load_scenarios
from streamrecover.testing.fakeprovider import PROVIDERS

#: How a fallback scenario's row is named in the matrix (its results' ``scenario``).
FALLBACK_PREFIX = "fallback/"

#: Faults that only test waiting in the transport (a drip, a keep-alive pause,
#: a stall, a huge line): they store nothing other scenarios do not, and they
#: are the slow ones, so they are played with memory storage only.
TIMING_FAULTS = frozenset({"drip", "pause", "stall", "oversized"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One cell of the matrix: a scenario for one provider, adapter and storage spec."""

    scenario: Scenario
    provider: str
    adapter: str
    storage: str

    @property
    def id(self) -> str:
        """A readable test id: ``scenario-provider-adapter-storage``."""
        return f"{self.scenario.name}-{self.provider}-{self.adapter}-{self.storage}"


def matrix_cases(
    scenarios: Iterable[Scenario],
    *,
    adapters: Sequence[str] = ADAPTERS,
    providers: Sequence[str] = PROVIDERS,
    storages: Sequence[str] = ("memory", "sqlite", "disk"),
    full_matrix_storage: str = "memory",
    other_storages_adapter: str = "sync",
) -> list[Case]:
    """Return the cases of the standard matrix, split to keep CI time small.

    Every scenario × provider × adapter runs with ``full_matrix_storage``. The
    other storages run on ``other_storages_adapter`` only, and skip the
    scenarios whose steps use one of :data:`TIMING_FAULTS`: storage sees the
    same events whichever adapter drives the session (the adapters differ only
    in how they wait), so the extra storages add coverage of recording and
    reading back, which the sync adapter exercises completely.
    """
    cases = []
    for scenario in scenarios:
        steps = [*scenario.attempts, scenario.then]
        timing = any(step.get("fault") in TIMING_FAULTS for step in steps)
        for provider in (p for p in scenario.providers if p in providers):
            for adapter in (a for a in scenario.adapters if a in adapters):
                for storage in storages:
                    if storage != full_matrix_storage and (
                        adapter != other_storages_adapter or timing
                    ):
                        continue
                    cases.append(
                        Case(scenario=scenario, provider=provider, adapter=adapter, storage=storage)
                    )
    return cases


def resolve_storage_url(spec: str, directory: Path) -> str:
    """Turn a storage spec into a URL: ``sqlite`` and ``disk`` get a file in ``directory``.

    Anything with ``://`` is a URL already (``memory://``, ``redis://host``...).
    """
    if "://" in spec:
        return spec
    if spec == "memory":
        return "memory://"
    if spec == "sqlite":
        return f"sqlite:///{directory / 'streams.db'}"
    if spec == "disk":
        return f"disk:///{directory / 'disk'}"
    raise ValueError(f"unknown storage {spec!r}: give a URL, or memory, sqlite or disk")


def run_matrix(
    *,
    storage_urls: Sequence[str] = ("memory", "sqlite", "disk"),
    adapters: Sequence[str] = ADAPTERS,
    providers: Sequence[str] = PROVIDERS,
    scenario_filter: str | None = None,
    transport_factory: Callable[[str], Any] | None = None,
    scenario_dir: str | Path | None = None,
    on_result: Callable[[Result], object] | None = None,
    progress: Callable[[int, int], None] | None = None,
    fallbacks: bool = True,
) -> list[Result]:
    """Play every scenario × provider × adapter × storage and return the results.

    Args:
        storage_urls: storage URLs, or ``memory`` / ``sqlite`` / ``disk`` (those
            two get a temporary directory, removed at the end).
        adapters: any of ``sync``, ``asyncio``, ``trio``.
        providers: wire formats to play (each scenario names those it applies to).
        scenario_filter: keep scenarios whose name contains this.
        transport_factory: see :func:`run_scenario`.
        scenario_dir: the catalogue (default: the catalogue shipped in the package).
        on_result: called with each result as it comes (to print progress).
        progress: called with ``(runs done, runs in all)`` once before the first
            run and after each one, so that a caller can show a counter.
        fallbacks: also play the fallback catalogue (``scenarios/fallback``):
            each scenario on each of its chains whose primary is in
            ``providers``, per adapter and storage, its row named
            ``fallback/<name>`` and counted under the primary's column. Not
            played with a ``transport_factory`` or a ``scenario_dir`` (the
            fallback runner drives one fake server per provider of the chain
            through the library's own transport).

    Returns:
        One :class:`Result` per run, in play order.
    """
    scenarios = load_scenarios(scenario_dir, name_filter=scenario_filter)
    chained = []
    if fallbacks and transport_factory is None and scenario_dir is None:
        chained = _fallback_cases(scenario_filter, providers=providers, adapters=adapters)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="streamrecover-conformance-") as tmp:
        urls = [resolve_storage_url(spec, Path(tmp)) for spec in storage_urls]
        total = len(urls) * (
            len(chained)
            + sum(
                1
                for scenario in scenarios
                for provider in scenario.providers
                if provider in providers
                for adapter in scenario.adapters
                if adapter in adapters
            )
        )
        if progress is not None:
            progress(0, total)
        for scenario in scenarios:
            for provider in (p for p in scenario.providers if p in providers):
                for adapter in (a for a in scenario.adapters if a in adapters):
                    for url in urls:
                        result = run_scenario(
                            scenario,
                            provider=provider,
                            adapter=adapter,
                            storage_url=url,
                            transport_factory=transport_factory,
                        )
                        results.append(result)
                        if on_result is not None:
                            on_result(result)
                        if progress is not None:
                            progress(len(results), total)
        for play in chained:
            for url in urls:
                result = play(url)
                results.append(result)
                if on_result is not None:
                    on_result(result)
                if progress is not None:
                    progress(len(results), total)
    return results


def _fallback_cases(
    name_filter: str | None, *, providers: Sequence[str], adapters: Sequence[str]
) -> list[Callable[[str], Result]]:
    """One player per fallback scenario × chain × adapter; each takes a storage URL."""
    from streamrecover.testing.conformance.fallback_run import (
        FallbackScenario,
        load_fallback_scenarios,
        run_fallback_scenario,
    )

    def player(
        scenario: FallbackScenario, chain: tuple[str, ...], adapter: str
    ) -> Callable[[str], Result]:
        def play(url: str) -> Result:
            result = run_fallback_scenario(
                scenario, chain=chain, adapter=adapter, storage_url=url
            )
            return dataclasses.replace(result, scenario=FALLBACK_PREFIX + scenario.name)

        return play

    return [
        player(scenario, chain, adapter)
        for scenario in load_fallback_scenarios()
        if name_filter is None or name_filter in FALLBACK_PREFIX + scenario.name
        for chain in scenario.chains
        if chain[0] in providers
        for adapter in scenario.adapters
        if adapter in adapters
    ]


def format_matrix(results: Sequence[Result]) -> str:
    """Return a text table: one row per scenario, one column per provider.

    A cell is ``passed/played`` over the adapters and storages played for that
    scenario and provider (``-``: not played); a fallback scenario's runs count
    under the provider that served first. The failures follow the table,
    one line each, and a summary line ends it.
    """
    providers = [p for p in PROVIDERS if any(_primary(r) == p for r in results)]
    rows = sorted({r.scenario for r in results})
    width = max([len("scenario"), *(len(r) for r in rows)])
    widths = [max(len(p), 7) for p in providers]
    header = [
        f"{'scenario':<{width}}",
        *(f"{p:>{w}}" for p, w in zip(providers, widths, strict=True)),
    ]
    lines = ["  ".join(header)]
    for row in rows:
        cells = [f"{row:<{width}}"]
        for provider, w in zip(providers, widths, strict=True):
            played = [r for r in results if r.scenario == row and _primary(r) == provider]
            passed = sum(r.passed for r in played)
            mark = f"{passed}/{len(played)}" if played else "-"
            if played and passed < len(played):
                mark = "!" + mark
            cells.append(f"{mark:>{w}}")
        lines.append("  ".join(cells))
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("")
        for result in failed:
            where = f"{result.scenario} [{result.provider}/{result.adapter}/{result.storage}]"
            lines.extend(f"FAIL {where}: {failure}" for failure in result.failures)
    adapters = sorted({r.adapter for r in results})
    storages = sorted({r.storage for r in results})
    lines.append("")
    lines.append(
        f"{len(results) - len(failed)} passed, {len(failed)} failed, {len(results)} runs "
        f"(adapters: {', '.join(adapters)}; storages: {', '.join(storages)})"
    )
    return "\n".join(lines)


def _primary(result: Result) -> str:
    # A fallback run's provider is its chain, "openai>anthropic": the primary's column.
    return result.provider.partition(">")[0]

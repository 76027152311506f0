"""``streamrecover conformance`` plays the fallback catalogue too (rows ``fallback/...``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import no_traceback, run_cli

import streamrecover.fallback_chain
from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.fallback import FallbackVerdict
from streamrecover.testing.conformance import format_matrix, run_matrix
from streamrecover.testing.conformance.fallback_run import CHAINS

SLICE = ["conformance", "-k", "fallback/primary_529", "--adapter", "sync", "--storage", "memory://"]


def test_the_cli_plays_each_chain_under_its_primary(tmp_path: Path) -> None:
    run = run_cli(SLICE, tmp_path)
    no_traceback(run)
    assert run.returncode == 0, run.stdout + run.stderr
    row = next(line for line in run.stdout.splitlines() if line.startswith("fallback/"))
    # One chain per primary: a 1/1 cell in each provider's column.
    assert row.split() == ["fallback/primary_529_forever", *["1/1"] * len(CHAINS)]
    assert re.search(rf"^{len(CHAINS)} passed, 0 failed, {len(CHAINS)} runs", run.stdout, re.M)


def test_no_fallbacks_leaves_them_out(tmp_path: Path) -> None:
    run = run_cli([*SLICE, "--no-fallbacks"], tmp_path)
    no_traceback(run)
    assert run.returncode == 2
    assert "no scenario matched" in run.stderr


def test_a_library_that_does_not_fall_back_fails_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(interrupted: StreamInterrupted) -> FallbackVerdict:
        return FallbackVerdict(fall_back=False, reason="broken on purpose")

    monkeypatch.setattr(streamrecover.fallback_chain, "fallback_verdict", never)
    results = run_matrix(
        storage_urls=["memory://"],
        adapters=["sync"],
        providers=["anthropic"],
        scenario_filter="fallback/primary_cut_then_down",
    )
    assert [(r.scenario, r.provider.partition(">")[0]) for r in results] == [
        ("fallback/primary_cut_then_down", "anthropic")
    ]
    assert not results[0].passed
    table = format_matrix(results)
    assert "!0/1" in table and "FAIL fallback/primary_cut_then_down" in table

"""``streamrecover conformance --seams``: the seam corpus from the command line."""

from __future__ import annotations

import re

import pytest

from streamrecover.cli import main
from streamrecover.testing.seams import report as seam_report


def test_seams_prints_the_table_and_passes_when_exact_continuations_keep_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["conformance", "--seams", "main", "--provider", "anthropic"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| behaviour | anthropic | all |" in out
    assert "| repeats the partial last word |" in out
    # The figures are the corpus's, not a fixed string: a rate and a count.
    overall = re.search(r"overall: +(\d+\.\d)% exact.*\(n=(\d+)\)", out)
    assert overall is not None and int(overall.group(2)) > 500
    assert re.search(r"exact continuations: +0 characters lost in 0 of \d+", out)


def test_seams_fails_when_an_exact_continuation_loses_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seam_report, "exact_losses", lambda results: 3)
    assert main(["conformance", "--seams", "holdout", "--provider", "openai"]) == 1
    assert "overall:" in capsys.readouterr().out


def test_seams_refuses_an_unknown_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["conformance", "--seams", "mine"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "Traceback" not in err

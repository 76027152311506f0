"""The ``streamrecover`` commands that run something: demo and conformance."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from streamrecover._cli_common import EXIT_FAILED, EXIT_OK, default_storage_url, usage_error

__all__ = ["ProgressLine", "cmd_conformance", "cmd_demo"]

def cmd_demo(args: argparse.Namespace) -> int:
    from streamrecover.demo import run_demo

    storage = args.storage or default_storage_url()
    faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    ok = run_demo(
        provider=args.provider,
        strategy=args.strategy,
        faults=faults,
        seed=args.seed,
        storage=storage,
        color=color,
        as_json=args.json,
        out=sys.stdout,
    )
    return EXIT_OK if ok else EXIT_FAILED


def cmd_conformance(args: argparse.Namespace) -> int:
    if args.seams:
        return _seam_corpus(args)
    from streamrecover.testing.conformance import format_matrix, run_matrix

    options: dict[str, Any] = {}
    if args.storage:
        options["storage_urls"] = args.storage
    if args.adapter:
        options["adapters"] = args.adapter
    if args.provider:
        options["providers"] = args.provider
    if args.filter:
        options["scenario_filter"] = args.filter
    if args.transport:
        options["transport_factory"] = _load_factory(args.transport)
    if args.no_fallbacks:
        options["fallbacks"] = False
    progress = ProgressLine.for_stream(sys.stderr)
    try:
        results = run_matrix(**options, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    if not results:
        # A typo in -k must not pass CI with an empty table.
        raise usage_error("no scenario matched the filters; nothing was run")
    print(format_matrix(results))
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


def _seam_corpus(args: argparse.Namespace) -> int:
    from streamrecover.testing.seams.report import PROVIDERS, exact_losses, report, run_corpus

    providers = tuple(args.provider) if args.provider else PROVIDERS
    cases, results, seconds = run_corpus(
        args.seams, providers=providers, in_process=not args.loopback
    )
    print(f"{len(cases)} seams x {len(providers)} providers, {seconds:.1f} s")
    print(report(results, providers))
    # The guarantee that holds whatever the continuation: nothing of a
    # continuation that went on exactly is lost, and every stream completes.
    failed = sum(r.outcome == "failed" for r in results)
    return EXIT_OK if failed == 0 and exact_losses(results) == 0 else EXIT_FAILED


class ProgressLine:
    """A ``done/total runs`` counter that rewrites one terminal line in place.

    Only for a terminal: :meth:`for_stream` returns None for a pipe or a file,
    so that captured output stays plain and parseable.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._width = 0

    @classmethod
    def for_stream(cls, stream: TextIO | None) -> ProgressLine | None:
        """A progress line on ``stream`` if it is a terminal, else None."""
        isatty: Callable[[], bool] | None = getattr(stream, "isatty", None)
        try:
            interactive = isatty is not None and isatty()
        except (OSError, ValueError):  # a closed or detached stream
            interactive = False
        return cls(stream) if interactive and stream is not None else None

    def __call__(self, done: int, total: int) -> None:
        line = f"  {done}/{total} runs"
        # Pad over a longer previous line; \r returns to its start.
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = max(self._width, len(line))

    def clear(self) -> None:
        """Blank the line, so that what is printed next starts clean."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _load_factory(spec: str) -> Any:
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise usage_error(f"--transport must be MODULE:FACTORY, got {spec!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise usage_error(f"cannot load transport factory {spec!r}: {exc}") from exc

"""The ``streamrecover`` command: demo, list, show, resume, cleanup, clear, conformance.

Exit codes (also in ``streamrecover --help``):

====  ========================================================================
0     success (for ``demo``: the final text equals the reference exactly)
1     the operation ran but failed (demo text differs, conformance failures)
2     bad arguments or bad input (a one-line error and the usage)
3     no stored stream with that id
4     the stream could not be finished (``resume`` gave up; partial text is kept)
====  ========================================================================

Output is plain and parseable when stdout is not a terminal (tab-separated
``list``, ``key: value`` ``show``); ``--json`` gives JSON everywhere it applies.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from streamrecover.core.errors import StreamInterrupted, StreamRecoverError

__all__ = ["default_storage_url", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 4

EPILOG = """\
exit codes: 0 success; 1 the operation failed (demo text differs, conformance
failures); 2 bad arguments; 3 no stream with that id; 4 resume gave up (the
partial text is kept).

storage: --storage URL, else $STREAMRECOVER_STORAGE, else a SQLite file in
$XDG_CACHE_HOME/streamrecover (default ~/.cache/streamrecover).
"""


def default_storage_url() -> str:
    """The storage used when none is given: $STREAMRECOVER_STORAGE or the cache file."""
    configured = os.environ.get("STREAMRECOVER_STORAGE")
    if configured:
        return configured
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(cache).absolute() / "streamrecover" / "streams.db"
    # Three slashes and a relative path, four and an absolute one (SQLAlchemy's rule).
    return "sqlite:///" + str(path)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line of error plus the usage, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="streamrecover",
        description="Keep LLM streaming responses alive: demo, stored streams, conformance.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def storage_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--storage", metavar="URL", help="storage URL (see below)")

    demo = commands.add_parser(
        "demo", help="stream an answer from an embedded fake provider that injects faults"
    )
    from streamrecover.demo import DEMO_FAULTS

    demo.add_argument(
        "--provider",
        default="anthropic",
        choices=("openai", "openai-responses", "anthropic", "gemini"),
    )
    demo.add_argument(
        "--strategy", default="exact", choices=("exact", "paragraph", "restart", "summarize")
    )
    demo.add_argument(
        "--faults",
        default=",".join(DEMO_FAULTS),
        help=f"comma-separated, in order (default: all): {', '.join(DEMO_FAULTS)}",
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for jitter and the answer")
    demo.add_argument("--no-color", action="store_true", help="no ANSI colours")
    demo.add_argument("--json", action="store_true", help="one JSON object per event")
    storage_option(demo)

    listing = commands.add_parser("list", help="list stored streams (recoverable by default)")
    listing.add_argument("--all", action="store_true", help="every stream, not only recoverable")
    listing.add_argument("--json", action="store_true")
    storage_option(listing)

    show = commands.add_parser("show", help="metadata and partial text of a stored stream")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    storage_option(show)

    resume = commands.add_parser(
        "resume", help="finish a stored stream (credentials from the environment)"
    )
    resume.add_argument("id")
    resume.add_argument(
        "--strategy", choices=("exact", "paragraph", "restart", "summarize", "native")
    )
    resume.add_argument("--base-url", help="override the stored base URL")
    resume.add_argument("--replay", action="store_true", help="print the stored text first")
    storage_option(resume)

    cleanup = commands.add_parser("cleanup", help="delete streams not updated for --ttl seconds")
    cleanup.add_argument("--ttl", type=_seconds, default=1800.0, metavar="SECONDS")
    storage_option(cleanup)

    clear = commands.add_parser("clear", help="delete one stored stream")
    clear.add_argument("id")
    storage_option(clear)

    conformance = commands.add_parser(
        "conformance", help="run the fault-scenario suite and print a results matrix"
    )
    conformance.add_argument(
        "--storage",
        action="append",
        metavar="URL",
        help="storage URL to test (repeatable; default: memory, sqlite and disk)",
    )
    conformance.add_argument(
        "--adapter", action="append", choices=("sync", "asyncio", "trio"), help="repeatable"
    )
    conformance.add_argument("--provider", action="append", help="repeatable")
    conformance.add_argument("-k", "--filter", help="run scenarios whose name contains this")
    conformance.add_argument(
        "--transport", metavar="MODULE:FACTORY", help="a third-party transport factory"
    )
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0 or math.isnan(value):
        raise argparse.ArgumentTypeError(f"must be zero or more seconds: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        handler = _HANDLERS[args.command]
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except StreamInterrupted as exc:
        _error(f"{exc} (recovery id {exc.recovery_id})")
        return EXIT_INTERRUPTED
    except StreamRecoverError as exc:
        from streamrecover.storage.errors import RecordNotFoundError

        if isinstance(exc, RecordNotFoundError):
            _error(str(exc))
            return EXIT_NOT_FOUND
        _error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _error(str(exc))
        return EXIT_FAILED


def _error(message: str) -> None:
    print(f"streamrecover: error: {message}", file=sys.stderr)


def _open(args: argparse.Namespace) -> Any:
    from streamrecover.storage import open_storage

    return open_storage(args.storage or default_storage_url())


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 129600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        status = None if args.all else ("active", "interrupted")
        summaries = storage.summaries(status=status)
    now = time.time()
    rows = sorted(summaries, key=lambda s: s.updated_at, reverse=True)
    if args.json:
        for summary in rows:
            print(json.dumps(_summary_dict(summary), ensure_ascii=False))
        return EXIT_OK
    out = sys.stdout
    if out.isatty():
        header = ("ID", "STATUS", "AGE", "PROVIDER", "MODEL", "CHARS", "LAST ERROR")
        print("  ".join(header))
    for summary in rows:
        error = summary.error.type + ": " + summary.error.message if summary.error else ""
        fields = (
            summary.id,
            summary.status,
            _age(now - summary.updated_at),
            summary.provider,
            summary.model,
            str(summary.text_length),
            error.replace("\t", " ").replace("\n", " ")[:120],
        )
        print(("  " if out.isatty() else "\t").join(fields))
    if out.isatty() and not rows:
        print("no recoverable streams" if not args.all else "no stored streams")
    return EXIT_OK


def _summary_dict(summary: Any) -> dict[str, Any]:
    return {
        "id": summary.id,
        "status": summary.status,
        "provider": summary.provider,
        "model": summary.model,
        "chars": summary.text_length,
        "created_at": summary.created_at,
        "updated_at": summary.updated_at,
        "error": summary.error.to_dict() if summary.error else None,
    }


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        record = storage.get(args.id)
    if args.json:
        print(json.dumps(record.to_dict(), ensure_ascii=False))
        return EXIT_OK
    lines = [
        ("id", record.id),
        ("status", record.status),
        ("provider", record.provider),
        ("model", record.model),
        ("base_url", record.base_url),
        ("attempts", str(record.attempts)),
        ("resumes", str(record.resumes)),
        ("created", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at))),
        ("updated", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.updated_at))),
        ("chars", str(len(record.text))),
        (
            "error",
            f"{record.error.type}: {record.error.message} (recoverable: "
            f"{'yes' if record.error.recoverable else 'no'})"
            if record.error
            else "",
        ),
    ]
    for key, value in lines:
        print(f"{key}: {value}")
    print("---")
    print(record.text)
    return EXIT_OK


def _cmd_resume(args: argparse.Namespace) -> int:
    from streamrecover.client import Client

    storage = _open(args)
    try:
        record = storage.get(args.id)
        options: dict[str, Any] = {"storage": storage}
        base_url = args.base_url or record.base_url
        if base_url:
            options["base_url"] = base_url
        client = Client(record.provider, **options)
        out = sys.stdout
        with client.resume(args.id, strategy=args.strategy, replay=args.replay) as stream:
            for text in stream.text_stream:
                out.write(text)
                out.flush()
        out.write("\n")
        print(
            f"completed: {stream.attempts} attempt(s), {stream.resumes} resume(s)",
            file=sys.stderr,
        )
        return EXIT_OK
    finally:
        storage.close()


def _cmd_cleanup(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        removed = storage.cleanup(args.ttl)
    print(f"removed {removed} stream(s) older than {args.ttl:g} s")
    return EXIT_OK


def _cmd_clear(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        existed = storage.delete(args.id)
    if not existed:
        _error(f"no stored stream {args.id!r}")
        return EXIT_NOT_FOUND
    print(f"removed {args.id}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
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


def _cmd_conformance(args: argparse.Namespace) -> int:
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
    results = run_matrix(**options)
    print(format_matrix(results))
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


def _load_factory(spec: str) -> Any:
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _usage(f"--transport must be MODULE:FACTORY, got {spec!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise _usage(f"cannot load transport factory {spec!r}: {exc}") from exc


def _usage(message: str) -> StreamRecoverError:
    from streamrecover.core.errors import UsageError

    return UsageError(message)


_HANDLERS = {
    "demo": _cmd_demo,
    "list": _cmd_list,
    "show": _cmd_show,
    "resume": _cmd_resume,
    "cleanup": _cmd_cleanup,
    "clear": _cmd_clear,
    "conformance": _cmd_conformance,
}


def _write(out: TextIO, text: str) -> None:
    out.write(text)
    out.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``streamrecover`` command: demo, list, show, resume, cleanup, clear, conformance.

Exit codes (also in ``streamrecover --help``):

====  ========================================================================
0     success (for ``demo``: the final text equals the reference exactly)
1     the operation failed (demo text differs, conformance failures, a storage
      that cannot be read, a stream another process is resuming)
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from streamrecover.core.errors import StreamInterrupted, StreamRecoverError, UsageError

if TYPE_CHECKING:
    from streamrecover.fallback import Fallback
    from streamrecover.storage.contribution import Contribution
    from streamrecover.storage.record import StreamRecord

__all__ = ["default_storage_url", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 4

EPILOG = """\
exit codes: 0 success; 1 the operation failed (demo text differs, conformance
failures, unusable storage); 2 bad arguments; 3 no stream with that id; 4 resume gave up (the
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
    resume.add_argument(
        "--force",
        action="store_true",
        help="take over a stream still marked active (only when the process that was "
        "streaming it is dead)",
    )
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
    conformance.add_argument(
        "--provider",
        action="append",
        choices=("openai", "openai-responses", "anthropic", "gemini"),
        help="repeatable",
    )
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


#: The options of the commands that take a stream id: name -> whether it takes a value.
#: (Kept in step with _build_parser; a test checks that each is accepted.)
_ID_COMMAND_OPTIONS: dict[str, dict[str, bool]] = {
    "show": {"-h": False, "--help": False, "--json": False, "--storage": True},
    "resume": {
        "-h": False,
        "--help": False,
        "--strategy": True,
        "--base-url": True,
        "--replay": False,
        "--force": False,
        "--storage": True,
    },
    "clear": {"-h": False, "--help": False, "--storage": True},
}


def _protect_ids(argv: list[str]) -> list[str]:
    """Move a stream id that begins with ``-`` behind ``--`` so argparse reads it as the id.

    Ids are URL-safe base64 (``secrets.token_urlsafe``), so one in 64 begins
    with ``-``; argparse would take ``show -x1...`` for an unknown option, and
    ``show -hX...`` for ``-h``. A token is an option only if it is one of the
    command's options (or an unambiguous ``--`` prefix of one, as argparse
    allows), or the value of the option before it.
    """
    if not argv or argv[0] not in _ID_COMMAND_OPTIONS or "--" in argv:
        return argv
    options = _ID_COMMAND_OPTIONS[argv[0]]
    kept = [argv[0]]
    ids: list[str] = []
    takes_value = False
    for token in argv[1:]:
        if takes_value:
            kept.append(token)
            takes_value = False
            continue
        name, equals, _ = token.partition("=")
        known = [option for option in options if option == name] or (
            [option for option in options if option.startswith(name)]
            if name.startswith("--") and len(name) > 2
            else []
        )
        if token.startswith("-") and len(known) != 1:
            ids.append(token)
            continue
        kept.append(token)
        if known:
            takes_value = options[known[0]] and not equals
    return [*kept, "--", *ids] if ids else kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    The exit codes are in the module docstring. Errors the user can act on are
    one line on stderr, never a traceback. ``sys.stdout`` and ``sys.stderr`` are
    switched to ``errors="backslashreplace"`` so an answer never fails to print.
    """
    _tolerate_unencodable_output()
    parser = _build_parser()
    args = parser.parse_args(_protect_ids(list(sys.argv[1:] if argv is None else argv)))
    try:
        handler = _HANDLERS[args.command]
        code = handler(args)
        # Flush here, not at interpreter exit: a reader that left is then a
        # BrokenPipeError caught below, not an "Exception ignored" and exit 120.
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left (`streamrecover list | head -1`): stop quietly. Point
        # stdout at /dev/null so the interpreter's final flush cannot fail again
        # (the recipe of the Python docs, "Note on SIGPIPE").
        _silence_stdout()
        return EXIT_FAILED
    except StreamInterrupted as exc:
        _error(_redact(f"{exc} (recovery id {exc.recovery_id})"))
        return EXIT_INTERRUPTED
    except StreamRecoverError as exc:
        from streamrecover.storage.errors import RecordNotFoundError, StatusConflictError

        hint = ""
        if isinstance(exc, StatusConflictError) and getattr(exc, "current", "") == "active":
            hint = " (rerun with --force if the process that was streaming it is dead)"
        _error(f"{exc}{hint}")
        if isinstance(exc, RecordNotFoundError):
            return EXIT_NOT_FOUND
        if isinstance(exc, UsageError):
            return EXIT_USAGE
        # The storage or the stream failed (a database it cannot read, another
        # process resuming the same stream): the arguments were fine.
        return EXIT_FAILED
    except OSError as exc:
        _error(str(exc))
        return EXIT_FAILED


def _error(message: str) -> None:
    print(f"streamrecover: error: {message}", file=sys.stderr)


def _tolerate_unencodable_output() -> None:
    # Answers hold any Unicode; a console or pipe whose encoding cannot show a
    # character (PYTHONIOENCODING=ascii, a legacy Windows code page) gets an
    # escape instead of a UnicodeEncodeError traceback halfway through a stream.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (stdout replaced in-process)
        pass
    finally:
        os.close(devnull)


def _api_key_variables() -> list[str]:
    from streamrecover.providers.registry import provider_class, provider_names

    return sorted({name for p in provider_names() for name in provider_class(p).api_key_env})


def _redact(message: str) -> str:
    """``message`` without credentials: key shapes masked, and the keys the CLI was given.

    A server may echo the key it refused ("Incorrect API key provided: sk-...");
    the CLI's only credentials are the providers' environment variables, so
    their values are cut out of anything it prints.
    """
    from streamrecover.core.redact import redact

    return redact(message, secrets=[os.environ.get(name) for name in _api_key_variables()])


def _open(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    from streamrecover.storage import open_storage

    url = args.storage or default_storage_url()
    if args.command != "demo" and not _storage_exists(url):
        # Managing streams never creates a database (a mistyped path would
        # otherwise leave an empty one, and its folders, behind): an absent
        # file or folder is an empty storage.
        return open_storage("memory://")
    if read_only and url.split(":", 1)[0].lower() in ("sqlite", "disk") and "?" not in url:
        # Looking never writes: SQLite's mode=ro, so a read-only file or
        # directory can be listed, and nothing (not even a journal mode) changes.
        url += "?mode=ro"
    return open_storage(url)


def _storage_exists(url: str) -> bool:
    from streamrecover.storage.base import file_url

    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("sqlite", "disk"):
        return True
    return file_url(url, scheme)[0].exists()  # a stat: never an open of a live database


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 129600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args, read_only=True) as storage:
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
    with _open(args, read_only=True) as storage:
        record = storage.get(args.id)
    if args.json:
        print(json.dumps({**record.to_dict(), "text": record.text}, ensure_ascii=False))
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
        *_served_lines(record),
    ]
    for key, value in lines:
        print(f"{key}: {value}")
    print("---")
    print(record.text)
    return EXIT_OK


def _served_lines(record: StreamRecord) -> list[tuple[str, str]]:
    """``show``'s lines for a stream that fell back: who served it, from which character."""
    if len(record.providers) < 2:
        return []
    lines = [(
        "providers",
        ", ".join(f"{served.provider} ({served.model}) from char {served.offset}"
                  for served in record.providers),
    )]
    for served in record.providers[1:]:
        lines.append(
            ("fell_back", f"to {served.provider} at char {served.offset}: {served.cause}")
        )
    return lines


def _cmd_resume(args: argparse.Namespace) -> int:
    from streamrecover.client import Client

    storage = _open(args)
    try:
        record = storage.get(args.id)
        options: dict[str, Any] = {"storage": storage}
        if len(record.providers) >= 2:
            # It fell back: it goes on with the provider that served it last, whose
            # key comes from the environment like any other.
            options["fallbacks"] = [_fallback_from_environment(record.providers[-1])]
        else:
            _require_api_key(record.provider)
        base_url = args.base_url or record.base_url
        if base_url:
            options["base_url"] = base_url
        client = Client(record.provider, **options)
        out = sys.stdout
        with client.resume(
            args.id, strategy=args.strategy, replay=args.replay, force=args.force
        ) as stream:
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


def _fallback_from_environment(served: Contribution) -> Fallback:
    from streamrecover.client import _key_from_environment
    from streamrecover.fallback import Fallback

    _require_api_key(served.provider)
    return Fallback(served.provider, served.model, api_key=_key_from_environment(served.provider),
                    base_url=served.base_url or None)


def _require_api_key(provider: str) -> None:
    # Credentials are never stored. Without one, a real provider answers 401,
    # which is final: the stream would be marked failed for a missing export.
    # (The official SDKs refuse to start without a key for the same reason.)
    from streamrecover.providers.registry import provider_class

    names = provider_class(provider).api_key_env
    if names and not any(os.environ.get(name) for name in names):
        raise _usage(
            f"no API key for provider {provider!r}: set {' or '.join(names)} "
            "(credentials are never stored with a stream)"
        )


def _cmd_cleanup(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        removed = storage.cleanup(args.ttl)
    print(f"removed {removed} stream(s) older than {args.ttl:g} s")
    return EXIT_OK


def _cmd_clear(args: argparse.Namespace) -> int:
    with _open(args) as storage:
        existed = storage.delete(args.id)
    if not existed:
        from streamrecover.storage.errors import RecordNotFoundError

        _error(str(RecordNotFoundError(args.id)))
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
    progress = _ProgressLine.for_stream(sys.stderr)
    try:
        results = run_matrix(**options, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    if not results:
        # A typo in -k must not pass CI with an empty table.
        raise _usage("no scenario matched the filters; nothing was run")
    print(format_matrix(results))
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


class _ProgressLine:
    """A ``done/total runs`` counter that rewrites one terminal line in place.

    Only for a terminal: :meth:`for_stream` returns None for a pipe or a file,
    so that captured output stays plain and parseable.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._width = 0

    @classmethod
    def for_stream(cls, stream: TextIO | None) -> _ProgressLine | None:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

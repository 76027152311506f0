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
import math
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from streamrecover import _cli_records, _cli_tools
from streamrecover._cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    default_storage_url,
    error,
    redact_message,
)
from streamrecover.core.errors import StreamInterrupted, StreamRecoverError, UsageError

__all__ = ["default_storage_url", "main"]

EPILOG = """\
exit codes: 0 success; 1 the operation failed (demo text differs, conformance
failures, unusable storage); 2 bad arguments; 3 no stream with that id; 4 resume gave up (the
partial text is kept).

storage: --storage URL, else $STREAMRECOVER_STORAGE, else a SQLite file in
$XDG_CACHE_HOME/streamrecover (default ~/.cache/streamrecover).
"""


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
        "--transport",
        metavar="MODULE:FACTORY",
        help="a third-party transport factory (the fallback scenarios are then not played)",
    )
    conformance.add_argument(
        "--no-fallbacks",
        action="store_true",
        help="skip the fallback scenarios (rows fallback/...: a primary fails, another"
        " provider takes over)",
    )
    conformance.add_argument(
        "--seams",
        choices=("main", "holdout", "both"),
        help="instead, play a seam corpus (how models continue a cut-off answer) and print"
        " exact / duplicated / lost per behaviour; fails if an exact continuation lost text",
    )
    conformance.add_argument(
        "--loopback",
        action="store_true",
        help="with --seams: through the public Client over loopback (slower), not in process",
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
        error(redact_message(f"{exc} (recovery id {exc.recovery_id})"))
        return EXIT_INTERRUPTED
    except StreamRecoverError as exc:
        from streamrecover.storage.errors import RecordNotFoundError, StatusConflictError

        hint = ""
        if isinstance(exc, StatusConflictError) and getattr(exc, "current", "") == "active":
            hint = " (rerun with --force if the process that was streaming it is dead)"
        error(f"{exc}{hint}")
        if isinstance(exc, RecordNotFoundError):
            return EXIT_NOT_FOUND
        if isinstance(exc, UsageError):
            return EXIT_USAGE
        # The storage or the stream failed (a database it cannot read, another
        # process resuming the same stream): the arguments were fine.
        return EXIT_FAILED
    except OSError as exc:
        error(str(exc))
        return EXIT_FAILED



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


_HANDLERS = {
    "demo": _cli_tools.cmd_demo,
    "list": _cli_records.cmd_list,
    "show": _cli_records.cmd_show,
    "resume": _cli_records.cmd_resume,
    "cleanup": _cli_records.cmd_cleanup,
    "clear": _cli_records.cmd_clear,
    "conformance": _cli_tools.cmd_conformance,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``streamrecover`` commands that manage stored streams: list, show, resume, cleanup, clear."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from streamrecover._cli_common import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    error,
    open_storage_for,
    usage_error,
)

if TYPE_CHECKING:
    from streamrecover.fallback import Fallback
    from streamrecover.storage.contribution import Contribution
    from streamrecover.storage.record import StreamRecord

__all__ = ["cmd_cleanup", "cmd_clear", "cmd_list", "cmd_resume", "cmd_show"]

def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 129600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def cmd_list(args: argparse.Namespace) -> int:
    with open_storage_for(args, read_only=True) as storage:
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


def cmd_show(args: argparse.Namespace) -> int:
    with open_storage_for(args, read_only=True) as storage:
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


def cmd_resume(args: argparse.Namespace) -> int:
    from streamrecover.client import Client

    storage = open_storage_for(args)
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
        raise usage_error(
            f"no API key for provider {provider!r}: set {' or '.join(names)} "
            "(credentials are never stored with a stream)"
        )


def cmd_cleanup(args: argparse.Namespace) -> int:
    with open_storage_for(args) as storage:
        removed = storage.cleanup(args.ttl)
    print(f"removed {removed} stream(s) older than {args.ttl:g} s")
    return EXIT_OK


def cmd_clear(args: argparse.Namespace) -> int:
    with open_storage_for(args) as storage:
        existed = storage.delete(args.id)
    if not existed:
        from streamrecover.storage.errors import RecordNotFoundError

        error(str(RecordNotFoundError(args.id)))
        return EXIT_NOT_FOUND
    print(f"removed {args.id}")
    return EXIT_OK

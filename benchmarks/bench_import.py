"""Import cost of streamrecover's client path and of its peers, in fresh interpreters.

Run:  python benchmarks/bench_import.py                    (best of 10)
      python benchmarks/bench_import.py --repeat 3
      python benchmarks/bench_import.py --instructions     (also count instructions, valgrind)

Issue 14's target: ``from streamrecover import Client, AsyncClient`` under
30 ms of ``-X importtime``. Every figure is the best of ``--repeat`` fresh
interpreters, the rows run interleaved (one of each per round), after one
warm-up run of each that fills the bytecode cache:

* the environment may set ``PYTHONDONTWRITEBYTECODE`` (this project's does),
  which makes every run compile every module again; the children run without
  it, with ``PYTHONPYCACHEPREFIX`` pointing at a cache of their own;
* ``importtime``: the sum of the cumulative microseconds ``-X importtime``
  reports for the top-level imports of the statement, i.e. everything it
  imported that ``python -c pass`` had not (the lines of a bare interpreter's
  start-up are left out). Summing matters: a module that a PEP 562
  ``__getattr__`` loads through ``importlib.import_module`` is reported on a
  line of its own, outside the package's cumulative figure;
* ``cpu`` and ``wall``: ``time.process_time`` and ``time.perf_counter`` around
  the statement, in the child (start-up excluded; construction included for
  the ``Client(...)`` row);
* the ``first stream`` rows: import, build a client and read one short stream
  (300 events) from the local fake server of ``_server.py`` to its end, the
  whole cold path of a process (``-X importtime`` then counts only imports);
* ``instructions`` (with ``--instructions``): what valgrind's callgrind counts
  for ``python -c statement`` minus ``python -c pass``. Time on a shared
  machine swings with the load; instruction counts do not, so the ratio to
  httpx in instructions is the steadier figure.

``vs httpx`` divides by ``import httpx`` measured the same way in the same run.
Start-up modules that site or an editable install's finder loads (``re``,
``enum``, ``pathlib``...) are nobody's cost here; ``--no-site`` runs the
children with ``-S`` and the venv's site-packages on ``PYTHONPATH`` instead, as
a wheel install without ``.pth`` hooks would start.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "streamrecover-bench-import-pyc"
_COLLECTED = re.compile(r"Collected : (\d+)")

#: (label, statement, needs): the rows, in print order; a row whose module is
#: not installed is left out. The SDK rows are not counted under valgrind
#: (minutes each).
ROWS: tuple[tuple[str, str, str], ...] = (
    ("import streamrecover", "import streamrecover", "streamrecover"),
    ("Client, AsyncClient", "from streamrecover import Client, AsyncClient", "streamrecover"),
    (
        "+ Client('openai')",
        "from streamrecover import Client\nClient('openai', api_key='sk-x')",
        "streamrecover",
    ),
    ("import httpx", "import httpx", "httpx"),
    ("httpx + httpx_sse", "import httpx, httpx_sse", "httpx_sse"),
    ("import openai", "import openai", "openai"),
    # The whole cold path, against the fake server of _server.py (the short
    # "warmup" answer, 300 events): import, build, one stream read to its end.
    (
        "sr first stream",
        "from streamrecover import Client\n"
        "client = Client('openai', base_url={url!r}, api_key='sk-x')\n"
        "with client.stream(model='warmup', messages=[{{'role': 'user', 'content': 'hi'}}])"
        " as stream:\n"
        "    text = ''.join(stream.text_stream)\n"
        "assert stream.completed and text",
        "streamrecover",
    ),
    (
        "httpx-sse first stream",
        "import json, httpx, httpx_sse\n"
        "parts = []\n"
        "with httpx.Client() as client, httpx_sse.connect_sse(\n"
        "    client, 'POST', {url!r} + '/chat/completions',\n"
        "    headers={{'authorization': 'Bearer x'}},\n"
        "    json={{'model': 'warmup', 'messages': [{{'role': 'user', 'content': 'hi'}}],"
        " 'stream': True}},\n"
        ") as source:\n"
        "    for sse in source.iter_sse():\n"
        "        if sse.data == '[DONE]':\n"
        "            break\n"
        "        for choice in json.loads(sse.data)['choices']:\n"
        "            parts.append(choice['delta'].get('content') or '')\n"
        "assert ''.join(parts)",
        "httpx_sse",
    ),
)
SDKS = {"import openai"}
FIRST_STREAM = {"sr first stream", "httpx-sse first stream"}
TARGET = "Client, AsyncClient"
REFERENCE = "import httpx"

_CHILD = """\
import time
_cpu, _wall = time.process_time(), time.perf_counter()
{statement}
_cpu, _wall = time.process_time() - _cpu, time.perf_counter() - _wall
print(f"@@ {{_cpu!r}} {{_wall!r}}")
"""


@dataclass
class Row:
    label: str
    statement: str
    importtime: float = float("inf")
    cpu: float = float("inf")
    wall: float = float("inf")
    modules: int = 0
    instructions: int | None = None
    #: The ``-X importtime`` lines of the run with the lowest importtime.
    best_lines: list[tuple[int, int, str]] = field(default_factory=list)


def child_env(no_site: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE)
    if no_site:
        paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def parse_importtime(stderr: str) -> list[tuple[int, int, str]]:
    """``(self_us, cumulative_us, name with its indent)`` of each ``-X importtime`` line."""
    lines = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cumulative, name = (part for part in re.split(r"[:|]", line, maxsplit=3))
        lines.append((int(self_us), int(cumulative), name.rstrip()[1:]))
    return lines


def top_level(lines: list[tuple[int, int, str]]) -> dict[str, int]:
    return {name: cumulative for _, cumulative, name in lines if not name.startswith(" ")}


def run_child(statement: str, env: dict[str, str], flags: Sequence[str]) -> tuple[
    list[tuple[int, int, str]], float, float
]:
    done = subprocess.run(
        [sys.executable, *flags, "-X", "importtime", "-c", _CHILD.format(statement=statement)],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    )
    marker = next(line for line in done.stdout.splitlines() if line.startswith("@@ "))
    _, cpu, wall = marker.split()
    return parse_importtime(done.stderr), float(cpu), float(wall)


def count_instructions(statement: str, env: dict[str, str], flags: Sequence[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out",
             sys.executable, *flags, "-c", statement],
            capture_output=True, text=True, check=True, env=env, timeout=600,
        )
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1))


def measure(rows: list[Row], repeat: int, no_site: bool, instructions: bool) -> None:
    env = child_env(no_site)
    flags = ["-S"] if no_site else []
    baseline, _, _ = run_child("pass", env, flags)
    startup = set(top_level(baseline))
    for row in rows:  # warm-up: fills the bytecode cache
        run_child(row.statement, env, flags)
    for _ in range(repeat):
        for row in rows:
            lines, cpu, wall = run_child(row.statement, env, flags)
            # The start-up lines come first, as in the bare run.
            same_start = [name for _, _, name in lines[: len(baseline)]] == [
                name for _, _, name in baseline
            ]
            ours = lines[len(baseline):] if same_start else [
                line for line in lines if line[2].strip() not in startup
            ]
            total = sum(top_level(ours).values()) / 1e6
            if total < row.importtime:
                row.importtime, row.best_lines, row.modules = total, ours, len(ours)
            row.cpu, row.wall = min(row.cpu, cpu), min(row.wall, wall)
    if instructions:
        bare = count_instructions("pass", env, flags)
        for row in rows:
            if row.label not in SDKS:
                row.instructions = count_instructions(row.statement, env, flags) - bare


def report(rows: list[Row], repeat: int, no_site: bool) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nimport cost, fresh interpreters, best of {repeat}, warm bytecode cache"
        f"{', -S (no site)' if no_site else ''}; load average {load:.1f} at the end"
    )
    reference = next((row for row in rows if row.label == REFERENCE), None)
    header = (f"  {'statement':<22} {'importtime':>10} {'vs httpx':>8} {'cpu':>9} {'wall':>9} "
              f"{'modules':>7}")
    with_instructions = any(row.instructions is not None for row in rows)
    if with_instructions:
        header += f" {'instructions':>13} {'vs httpx':>8}"
    print(header)
    for row in rows:
        ratio = f"{row.importtime / reference.importtime:7.2f}x" if reference else "-"
        line = (f"  {row.label:<22} {row.importtime * 1e3:7.1f} ms {ratio:>8} "
                f"{row.cpu * 1e3:6.1f} ms {row.wall * 1e3:6.1f} ms {row.modules:>7}")
        if with_instructions and row.instructions is not None:
            share = (f"{row.instructions / reference.instructions:7.2f}x"
                     if reference and reference.instructions else "-")
            line += f" {row.instructions / 1e6:11.1f} M {share:>8}"
        print(line)
    target = next(row for row in rows if row.label == TARGET)
    verdict = "met" if target.importtime < 0.030 else "NOT met"
    print(f"  target: {TARGET!r} under 30 ms of -X importtime: {verdict} "
          f"({target.importtime * 1e3:.1f} ms)")
    print(f"  largest self times on the {TARGET!r} path (best run):")
    for self_us, cumulative, name in sorted(target.best_lines, reverse=True)[:8]:
        print(f"    {self_us / 1e3:6.2f} ms self {cumulative / 1e3:7.2f} ms cumulative  "
              f"{name.strip()}")


def installed_rows(url: str | None) -> list[Row]:
    """The rows whose module is installed; the first-stream rows only with a server ``url``."""
    return [
        Row(label, statement.format(url=url) if label in FIRST_STREAM else statement)
        for label, statement, needs in ROWS
        if importlib.util.find_spec(needs) is not None and (url or label not in FIRST_STREAM)
    ]


def import_times(repeat: int) -> None:
    """Measure and print the table (``bench_e2e.py`` prints it at its end)."""
    rows = installed_rows(None)
    measure(rows, repeat, no_site=False, instructions=False)
    report(rows, repeat, no_site=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="fresh processes per figure")
    parser.add_argument("--no-site", action="store_true", help="children run with -S")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under valgrind (needs valgrind)")
    parser.add_argument("--no-first-stream", action="store_true",
                        help="leave out the rows that read a first stream from a local server")
    args = parser.parse_args(argv)
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH")
    print(f"Python {sys.version.split()[0]}")
    if args.no_first_stream:
        rows = installed_rows(None)
        measure(rows, args.repeat, args.no_site, args.instructions)
    else:
        from _server import WARMUP_EVENTS, BenchServer

        with BenchServer(WARMUP_EVENTS) as server:
            rows = installed_rows(server.url)
            measure(rows, args.repeat, args.no_site, args.instructions)
    report(rows, args.repeat, args.no_site)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Import cost of streamrecover and its peers, each measured in fresh processes.

Run:  python benchmarks/bench_import.py             (best of 10)
      python benchmarks/bench_import.py --repeat 3

Two measures, both best of N fresh interpreters:

* ``-X importtime``: the cumulative microseconds CPython reports for the
  top-level module (everything it imports included, interpreter start-up not);
* wall: ``python -c "import X"`` minus ``python -c "pass"``.

``import streamrecover`` loads only the sans-IO core (the client, transports
and storage load on first use); the ``streamrecover.Client`` row is what
``from streamrecover import Client`` costs on top, for comparison with
``import openai``, which loads its whole client. The list of top-level
modules that ``import streamrecover`` pulls in is printed too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

#: Modules that belong to a transport or a storage, not to the sans-IO core.
NOT_CORE = {
    "h11",
    "anyio",
    "sqlite3",
    "_sqlite3",
    "diskcache",
    "ssl",
    "_ssl",
    "httpx",
    "trio",
    "asyncio",
    "socket",
    "_socket",
    "selectors",
    "select",
}


def wall_import(statement: str, repeat: int) -> float:
    """Best wall seconds of ``python -c statement`` in a fresh process."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def importtime(module: str, repeat: int) -> float:
    """Best cumulative ``-X importtime`` of top-level ``module``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() == f" {module}":
                best = min(best, int(parts[1]) / 1e6)
    return best


def loaded_by(statement: str) -> list[str]:
    """Top-level modules that ``statement`` adds to ``sys.modules`` in a fresh process."""
    code = (
        "import sys; before = set(sys.modules); " + statement + "; "
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def import_times(repeat: int) -> None:
    """Print the import table."""
    print(
        f"\nimport time, fresh processes, best of {repeat}: '-X importtime' cumulative of "
        "the module; wall(python -c 'import X') - wall(python -c 'pass')"
    )
    baseline = wall_import("pass", repeat)
    rows = [
        ("streamrecover", "import streamrecover"),
        ("streamrecover.Client", "from streamrecover import Client"),
        ("openai", "import openai"),
        ("httpx", "import httpx"),
        ("httpx_sse", "import httpx_sse"),
    ]
    ours: dict[str, float] = {}
    print(f"  {'module':<22} {'importtime':>10} {'vs sr':>6}   {'wall':>8} {'vs sr':>6}")
    for module, statement in rows:
        cumulative = importtime(module, repeat) if "." not in module else None
        wall = wall_import(statement, repeat) - baseline
        if module == "streamrecover":
            ours = {"cumulative": cumulative or 0.0, "wall": wall}
        shown = "-" if cumulative is None else f"{cumulative * 1e3:7.1f} ms"
        ratio = "-" if cumulative is None else f"{cumulative / ours['cumulative']:5.1f}x"
        print(
            f"  {module:<22} {shown:>10} {ratio:>6}   {wall * 1e3:5.1f} ms "
            f"{wall / ours['wall']:5.1f}x"
        )
    loaded = loaded_by("import streamrecover")
    print(f"  'import streamrecover' adds {len(loaded)} top-level modules: {' '.join(loaded)}")
    print(
        "  of which transport/storage modules: "
        f"{' '.join(m for m in loaded if m in NOT_CORE) or 'none'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="fresh processes per figure")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}")
    import_times(args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where the recorded real provider streams are (a module of its own, so tests can import it).

The recordings are not part of the project: they sit next to the repository,
at ``<repo root>/../shared/realstreams`` (where CI's clone finds them too), or
wherever ``STREAMRECOVER_REALSTREAMS`` points.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that names another folder of recordings.
ENVIRONMENT_VARIABLE = "STREAMRECOVER_REALSTREAMS"
REPO_ROOT = Path(__file__).resolve().parents[2]


def realstreams_folder() -> Path:
    """The folder of recordings: the environment variable's, else ``../shared/realstreams``."""
    named = os.environ.get(ENVIRONMENT_VARIABLE)
    if named:
        return Path(named)
    return REPO_ROOT.parent / "shared" / "realstreams"

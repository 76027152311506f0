"""Who writes a record: the identity of one process, and whether it is gone.

A stream's record carries its :class:`Owner` so that a resumer can tell a live
writer from one a crash left behind. On the owner's own host the answer is
certain, not a guess: the process with that pid either no longer exists, or
it is another process that reused the pid (its start time differs), or the
machine rebooted (its boot id differs). On another host, or where the
operating system does not say, nothing is known and the lease decides (see
``Storage.claim``).

``host`` is not just the host name: two containers may share one, so it also
holds the machine id and the pid namespace (Linux), the things that make a pid
mean the same process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from streamrecover.core.errors import StorageError

__all__ = ["Owner", "current_owner", "owner_is_gone"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """The process that writes a record.

    ``host`` identifies the machine and pid namespace, ``boot_id`` the boot of
    that machine (empty where unknown), ``pid`` the process, and ``started``
    the process's start time as the OS reports it (Linux: clock ticks since
    boot from ``/proc/<pid>/stat``; empty where unknown), so that a reused pid
    is not mistaken for the owner.
    """

    host: str
    pid: int
    boot_id: str = ""
    started: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``{"host", "pid", "boot_id", "started"}``."""
        return {"host": self.host, "pid": self.pid, "boot_id": self.boot_id,
                "started": self.started}

    @classmethod
    def from_dict(cls, data: object) -> Owner:
        """Read the JSON form back. Raises StorageError if it is not one."""
        if not isinstance(data, dict) or set(data) != {"host", "pid", "boot_id", "started"}:
            raise StorageError(f"stored owner is not an owner object: {data!r}"[:200])
        host, pid, boot_id, started = (data[k] for k in ("host", "pid", "boot_id", "started"))
        if not (isinstance(host, str) and isinstance(pid, int) and not isinstance(pid, bool)
                and isinstance(boot_id, str) and isinstance(started, str)):
            raise StorageError("stored owner has a field of the wrong type")
        return cls(host=host, pid=pid, boot_id=boot_id, started=started)

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host.split('/', 1)[0]}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read().strip()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def _host_identity() -> str:
    import socket  # here, not at import: it costs import time on every start

    parts = [socket.gethostname()]
    machine = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id")
    if machine:
        parts.append(machine)
    # Two containers with one host name and machine id still have their
    # own pid namespaces: pid 7 in one is not pid 7 in the other.
    with contextlib.suppress(OSError):
        parts.append(f"pidns:{os.stat('/proc/self/ns/pid').st_ino}")
    return "/".join(parts)


@lru_cache(maxsize=1)
def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _process_start(pid: int) -> tuple[bool, str]:
    """Return (exists, start time) for ``pid`` from /proc; ("", unknown) elsewhere.

    A zombie (state ``Z``: killed, not yet reaped) counts as gone.
    """
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return False, ""
    # The command name (field 2) is in parentheses and may hold spaces or ")".
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return False, ""
    return True, fields[19]  # field 22 of proc(5): starttime


def current_owner() -> Owner:
    """Return the :class:`Owner` that names this process (cheap: cached per process)."""
    pid = os.getpid()
    return _owner_for(pid)


@lru_cache(maxsize=4)
def _owner_for(pid: int) -> Owner:
    # Keyed by pid so that a forked child gets its own identity.
    started = _process_start(pid)[1] if sys.platform.startswith("linux") else ""
    return Owner(host=_host_identity(), pid=pid, boot_id=_boot_id(), started=started)


def owner_is_gone(owner: Owner) -> bool:
    """Return True only when it is certain that ``owner``'s process no longer runs.

    Certain means: the owner is on this host (same host identity) and either
    the machine rebooted since (another boot id), or no process has its pid,
    or the process with its pid started at another time. Anything else —
    another host, an OS that does not say (Windows, where probing a pid is not
    harmless) — returns False: the caller waits for the lease instead.
    """
    if owner.host != _host_identity():
        return False
    boot_id = _boot_id()
    if owner.boot_id and boot_id and owner.boot_id != boot_id:
        return True
    if sys.platform.startswith("linux"):
        exists, started = _process_start(owner.pid)
        if not exists:
            return True
        return bool(owner.started) and started != owner.started
    if sys.platform == "win32" or owner.pid <= 0:
        return False
    try:
        os.kill(owner.pid, 0)  # POSIX: signal 0 probes without delivering anything
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, under another user
        return False
    return False

"""The entry-point group is read once while nothing is installed, and again when something is."""

from __future__ import annotations

import os
from importlib.metadata import EntryPoints
from pathlib import Path

import pytest

from streamrecover.storage import MemoryStorage, open_storage, registry, storage_class

STORAGE_CLASS = "streamrecover.storage.memory:MemoryStorage"


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    installed = registry.entry_points

    def counted(*, group: str) -> EntryPoints:
        reads.append(group)
        return installed(group=group)

    monkeypatch.setattr(registry, "entry_points", counted)
    return reads


def install(folder: Path, name: str, scheme: str) -> None:
    """Write a distribution's metadata into ``folder`` as pip would, with an entry point."""
    dist_info = folder / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[streamrecover.storage]\n{scheme} = {STORAGE_CLASS}\n"
    )
    # pip's install takes far longer than a tick of the file system's clock; a
    # test does not, so the folder's time is moved on explicitly.
    stat = folder.stat()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_many_storages_opened_read_the_installed_metadata_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = count_reads(monkeypatch)
    for _ in range(5):
        with open_storage("memory://") as storage:
            assert isinstance(storage, MemoryStorage)
    assert reads == []  # a built-in scheme reads no metadata at all
    for _ in range(5):
        with pytest.raises(ValueError, match="nosuchscheme"):
            storage_class("nosuchscheme")
    assert reads == [registry.ENTRY_POINT_GROUP]


def test_a_distribution_installed_at_run_time_is_seen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    reads = count_reads(monkeypatch)
    with pytest.raises(ValueError, match="runtimeplugin"):
        storage_class("runtimeplugin")
    install(site, "sr_runtime_plugin", "runtimeplugin")
    assert storage_class("runtimeplugin") is MemoryStorage
    assert len(reads) == 2


def test_a_folder_added_to_the_import_path_is_seen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "later"
    site.mkdir()
    install(site, "sr_later_plugin", "laterplugin")
    with pytest.raises(ValueError, match="laterplugin"):
        storage_class("laterplugin")
    monkeypatch.syspath_prepend(str(site))
    assert storage_class("laterplugin") is MemoryStorage


def test_the_callers_copy_cannot_change_what_is_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install(tmp_path, "sr_kept_plugin", "keptplugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = registry._entry_points()
    found.clear()
    assert "keptplugin" in registry._entry_points()

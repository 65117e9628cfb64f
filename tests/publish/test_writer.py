"""write_if_changed: identical bytes leave the file alone; a failed write leaves the old file whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aggregator.publish import write_if_changed


def test_writes_new_file_creating_directories(tmp_path: Path) -> None:
    path = tmp_path / "out" / "feeds" / "all.atom"
    assert write_if_changed(path, b"<feed/>") is True
    assert path.read_bytes() == b"<feed/>"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["all.atom"]  # no temp file left behind


def test_identical_bytes_keep_file_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_if_changed(path, b"<feed>one</feed>")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    inode = path.stat().st_ino
    assert write_if_changed(path, b"<feed>one</feed>") is False
    assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    assert path.stat().st_ino == inode


def test_changed_bytes_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_if_changed(path, b"<feed>one</feed>")
    assert write_if_changed(path, b"<feed>two, longer</feed>") is True
    assert path.read_bytes() == b"<feed>two, longer</feed>"
    assert write_if_changed(path, b"<feed>3</feed>") is True  # shorter: no stale tail
    assert path.read_bytes() == b"<feed>3</feed>"


def test_failure_during_write_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "all.atom"
    write_if_changed(path, b"<feed>old</feed>")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_if_changed(path, b"<feed>new and much longer</feed>")
    assert path.read_bytes() == b"<feed>old</feed>"
    assert [p.name for p in tmp_path.iterdir()] == ["all.atom"]


def test_failure_at_rename_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "all.atom"
    write_if_changed(path, b"<feed>old</feed>")

    def broken_replace(src: object, dst: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        write_if_changed(path, b"<feed>new</feed>")
    assert path.read_bytes() == b"<feed>old</feed>"
    assert [p.name for p in tmp_path.iterdir()] == ["all.atom"]

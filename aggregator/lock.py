"""A file lock so an overlapping cron run exits at once instead of polling everything twice."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aggregator.errors import LockedError


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Held for the whole run; the OS releases it if the process dies, so a kill -9 never wedges cron."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise LockedError(
                f"another aggregator run (pid {holder}) holds {path}; this run exits without doing anything"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def lock_path_for(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.lock" if output_dir.name else output_dir / ".lock"

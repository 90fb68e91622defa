"""Writes that survive a crash or a power cut: every file Chimera writes appears whole or not
at all. It is written beside its final name, synced to disk, renamed over it (a rename is
atomic), and the folder synced (the rename is an entry of the folder's)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_synced(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` and waits until the disk has it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def sync_file(path: Path) -> None:
    """Waits until the disk has ``path``'s bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Waits until the disk has ``folder``'s entries (a file created or renamed in it)."""
    sync_file(folder)


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer to fill; when the block ends without an
    error it becomes ``path`` (synced, renamed, folder synced), else it is removed."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield tmp
        sync_file(tmp)
        os.replace(tmp, target)
        sync_folder(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike[str], data: bytes | bytearray) -> None:
    """Writes ``data`` to ``path``: a reader finds the old bytes or the new ones, never a mix."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)

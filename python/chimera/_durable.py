"""Writes that survive a power cut: data synced to disk before it is relied on, and a folder
synced after a rename in it (the rename is an entry of the folder's)."""

from __future__ import annotations

import os
from pathlib import Path


def write_synced(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` and waits until the disk has it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def sync_folder(folder: Path) -> None:
    """Waits until the disk has ``folder``'s entries (a file created or renamed in it)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

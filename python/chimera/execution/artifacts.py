"""Versioned agent artifacts in a content-addressed folder.

An artifact is a module, a genome and metadata, stored under ``<root>/<id>/`` where ``id`` is
the SHA-256 of the module's bytes, the genome's bytes (float64, little-endian) and the
canonical JSON of the metadata: the same content always has the same id, and a stored
artifact never changes. A write goes to a temporary folder, its files synced to disk, renamed
into place and the rename synced, so a reader (or a run resumed after a power cut) sees a whole
artifact or none; a read checks the id against the content.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._durable import sync_folder, write_synced
from .._errors import ArgumentTypeError, ValidationError
from .agent import WasmAgent
from .limits import Limits


def _digest(module: bytes, genome: np.ndarray, metadata: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for part in (module, genome.astype("<f8").tobytes(),
                 json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()):  # fmt: skip
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


@dataclass(frozen=True)
class Artifact:
    """One stored version: ``id``, the module's bytes, the genome and the metadata."""

    id: str
    module: bytes
    genome: np.ndarray
    metadata: dict[str, Any]

    def agent(self, limits: Limits | None = None) -> WasmAgent:
        """The module as a sandboxed agent (its genome is this artifact's ``genome``)."""
        return WasmAgent(self.module, dim=self.genome.size, limits=limits,
                         name=str(self.metadata.get("name", self.id[:12])))  # fmt: skip


class ArtifactStore:
    """A folder of artifacts keyed by content."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(
        self, module: bytes | str | Path, genome: Any, metadata: dict[str, Any] | None = None
    ) -> str:
        """Stores an artifact (once: the same content is the same id) and returns its id."""
        if isinstance(module, (str, Path)):
            try:
                data = Path(module).read_bytes()
            except OSError as exc:
                raise ValidationError(f"cannot read the module {module}: {exc}") from exc
        elif isinstance(module, (bytes, bytearray, memoryview)):
            data = bytes(module)
        else:  # bytes(4096) would be 4096 zero bytes
            raise ValidationError(f"module must be the .wasm bytes or a path to them, got "
                                  f"{type(module).__name__}")  # fmt: skip
        try:
            g = np.ascontiguousarray(genome, dtype=np.float64).ravel()
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"an artifact's genome must be numbers: {exc}") from None
        if not np.isfinite(g).all():
            raise ValidationError("an artifact's genome must be finite")
        meta = dict(metadata or {})
        try:
            json.dumps(meta)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"artifact metadata must be JSON: {exc}") from exc
        key = _digest(data, g, meta)
        final = self.root / key
        if final.is_dir():
            return key
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        try:
            write_synced(tmp / "module.wasm", data)
            write_synced(tmp / "genome.json", json.dumps(g.tolist()).encode())
            write_synced(tmp / "metadata.json",
                          json.dumps(meta, sort_keys=True, indent=1).encode())  # fmt: skip
            os.rename(tmp, final)
            sync_folder(self.root)  # the rename itself survives a power cut
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.is_dir():  # not a concurrent writer of the same content
                raise
        return key

    def get(self, key: str) -> Artifact:
        """The artifact ``key``; an error if it is missing or its content does not match."""
        if not isinstance(key, str):
            raise ArgumentTypeError(f"key must be an artifact id (a str), got {key!r:.40}")
        folder = self.root / key
        if len(key) != 64 or not folder.is_dir():
            raise ValidationError(f"no artifact {key!r} in {self.root}")
        try:
            data = (folder / "module.wasm").read_bytes()
            genome = np.array(json.loads((folder / "genome.json").read_text()), dtype=np.float64)
            meta = json.loads((folder / "metadata.json").read_text())
        except (OSError, ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise ValidationError(f"artifact {key} in {self.root} is damaged: {exc}; store it "
                                  "again with put()") from exc  # fmt: skip
        if _digest(data, genome, meta) != key:
            raise ValidationError(f"artifact {key} is damaged: its content no longer hashes to it")
        return Artifact(key, data, genome, meta)

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and len(p.name) == 64)

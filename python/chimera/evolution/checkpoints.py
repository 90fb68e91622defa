"""Checkpoint files that survive the process being killed at any moment.

A checkpoint is one file per generation, ``gen-<generation>.ckpt`` in a folder: a magic line,
the SHA-256 of the payload, then the payload: the length of a JSON header, the header (the
state, each array replaced by its name, dtype, shape and place) and the arrays' raw bytes
(no pickle: loading a checkpoint runs no code). Format 1, whose payload was a NumPy ``.npz``
archive, is still read; it cost 0.1 ms an array to write, format 2 a few microseconds. It is
written through :func:`chimera._durable.write_atomic`, so a reader finds either the whole
file or none. ``latest`` verifies the checksum and falls back
to the previous checkpoint when the newest is damaged; ``keep`` of them are kept.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._durable import write_atomic
from .._errors import ValidationError

log = logging.getLogger("chimera.checkpoints")

MAGIC = b"CHIMERA-CHECKPOINT 2\n"
_MAGIC_NPZ = b"CHIMERA-CHECKPOINT 1\n"  # format 1: an npz payload
_NAME = re.compile(r"^gen-(\d{8,})\.ckpt$")
_JSON_KEY = "__state__.json"


def encode(state: dict[str, Any]) -> bytes:
    """The checkpoint bytes of a state made of dicts, lists, scalars and NumPy arrays."""
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = value
            return {"__array__": name}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise ValidationError("checkpoint state keys must be strings")
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValidationError(f"checkpoint state holds a {type(value).__name__}, not storable")

    tree = walk(state)
    table, offset = [], 0
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise ValidationError("checkpoint arrays must hold numbers or strings, not objects")
        table.append([name, a.dtype.str, list(a.shape), offset, a.nbytes])
        offset += a.nbytes
    header = json.dumps({"arrays": table, "state": tree}, allow_nan=True,
                        separators=(",", ":")).encode()  # fmt: skip
    payload = b"".join([len(header).to_bytes(8, "little"), header,
                        *(np.ascontiguousarray(a).tobytes() for a in arrays.values())])  # fmt: skip
    return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _unpack(payload: bytes) -> tuple[Any, dict[str, np.ndarray]]:
    n = int.from_bytes(payload[:8], "little")
    header = json.loads(payload[8 : 8 + n].decode())
    base, arrays = 8 + n, {}
    for name, dtype, shape, offset, nbytes in header["arrays"]:
        dt = np.dtype(dtype)
        if dt.hasobject or base + offset + nbytes > len(payload):
            raise ValueError(f"array {name} is not plain data or lies past the payload")
        flat = np.frombuffer(payload, dt, count=nbytes // max(dt.itemsize, 1), offset=base + offset)
        arrays[name] = flat.reshape(shape).copy()  # its own writable memory
    return header["state"], arrays


def _unpack_npz(payload: bytes) -> tuple[Any, dict[str, np.ndarray]]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(arrays.pop(_JSON_KEY).tobytes().decode()), arrays


def decode(data: bytes) -> dict[str, Any]:
    """The state ``encode`` wrote; ValidationError when the bytes are damaged."""
    magic = next((m for m in (MAGIC, _MAGIC_NPZ) if data.startswith(m)), None)
    if magic is None:
        raise ValidationError("not a Chimera checkpoint (bad magic)")
    rest = data[len(magic) :]
    digest, _, payload = rest.partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise ValidationError("checkpoint checksum mismatch: the file is damaged or truncated")
    try:
        tree, arrays = (_unpack if magic == MAGIC else _unpack_npz)(payload)
    except Exception as exc:  # a checksum match with an unreadable payload: a foreign file
        raise ValidationError(f"checkpoint payload is unreadable: {exc}") from exc

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"__array__"}:
                return arrays[value["__array__"]]
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result = walk(tree)
    if not isinstance(result, dict):
        raise ValidationError("checkpoint payload is not a state dictionary")
    return result


def generations(folder: Path) -> list[int]:
    """Generations that have a checkpoint file in ``folder``, ascending."""
    if not folder.is_dir():
        return []
    found = (_NAME.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def path_of(folder: Path, generation: int) -> Path:
    return folder / f"gen-{generation:08d}.ckpt"


def save(folder: Path, generation: int, state: dict[str, Any], *, keep: int = 3) -> Path:
    """Write the checkpoint of ``generation`` atomically and drop all but the newest ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = path_of(folder, generation)
    write_atomic(path, encode(state))
    for old in generations(folder)[:-keep]:
        path_of(folder, old).unlink(missing_ok=True)
    return path


def latest(folder: Path) -> tuple[int | None, dict[str, Any] | None, list[str]]:
    """The newest readable checkpoint as ``(generation, state, problems)``, where ``problems``
    names the newer files skipped as damaged; ``(None, None, problems)`` when none is readable."""
    problems: list[str] = []
    for gen in reversed(generations(folder)):
        path = path_of(folder, gen)
        try:
            return gen, decode(path.read_bytes()), problems
        except (OSError, ValidationError) as exc:
            log.warning("skipping checkpoint %s: %s", path, exc)
            problems.append(f"{path.name}: {exc}")
    return None, None, problems

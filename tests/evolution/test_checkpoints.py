"""Checkpoint files: a round trip keeps arrays and scalars, a damaged file falls back to the one
before, what cannot be stored is refused, and the first format is still read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chimera import ValidationError
from chimera.evolution import checkpoints


def test_checkpoint_round_trip_keeps_arrays_and_scalars(tmp_path: Path) -> None:
    state = {
        "a": np.arange(6, dtype=np.int32).reshape(2, 3),
        "b": {"x": np.array([0.1, np.inf]), "none": None, "f": -np.inf, "n": 2**63},
        "rows": [(1, 2.5, [0.1, 0.2]), (2, float("nan"), [])],
    }
    checkpoints.save(tmp_path, 4, state)
    gen, back, problems = checkpoints.latest(tmp_path)
    assert gen == 4 and problems == [] and back is not None
    np.testing.assert_array_equal(back["a"], state["a"])
    assert back["a"].dtype == np.int32
    np.testing.assert_array_equal(back["b"]["x"], [0.1, np.inf])
    assert back["b"]["none"] is None and back["b"]["f"] == -np.inf and back["b"]["n"] == 2**63
    assert back["rows"][0] == [1, 2.5, [0.1, 0.2]] and np.isnan(back["rows"][1][1])
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    for g in range(1, 6):
        checkpoints.save(tmp_path, g, {"g": g}, keep=3)
    assert checkpoints.generations(tmp_path) == [3, 4, 5]
    newest = checkpoints.path_of(tmp_path, 5)
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0xFF  # one flipped bit-pattern in the payload
    newest.write_bytes(bytes(data))
    checkpoints.path_of(tmp_path, 4).write_bytes(newest.read_bytes()[:40])  # truncated
    gen, state, problems = checkpoints.latest(tmp_path)
    assert gen == 3 and state == {"g": 3}
    assert len(problems) == 2 and "checksum" in problems[0]
    with pytest.raises(ValidationError, match="not a Chimera checkpoint"):
        checkpoints.decode(b"PK\x03\x04 something else")


def test_checkpoint_refuses_what_it_cannot_store() -> None:
    with pytest.raises(ValidationError, match="not storable"):
        checkpoints.encode({"f": object()})


def test_checkpoints_of_format_1_are_still_read(tmp_path: Path) -> None:
    import hashlib
    import io

    buf = io.BytesIO()
    tree = {"g": 3, "x": {"__array__": "a0"}}
    np.savez(buf, a0=np.arange(4.0), **{"__state__.json": np.frombuffer(
        json.dumps(tree).encode(), dtype=np.uint8)})  # fmt: skip
    payload = buf.getvalue()
    data = b"CHIMERA-CHECKPOINT 1\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    state = checkpoints.decode(data + payload)
    assert state["g"] == 3 and state["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    zero = checkpoints.decode(checkpoints.encode({"e": np.zeros((0, 5)), "s": np.array(["ab"])}))
    assert zero["e"].shape == (0, 5) and zero["s"].tolist() == ["ab"]

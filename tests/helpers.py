"""Helpers the tests share: the repository's examples, a backend's kernels, and where the CUDA
backend's arrays live."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import chimera

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AGENTS = EXAMPLES / "agents"


def kernels(name: str) -> ModuleType:
    return chimera._backend.resolve(name)[1]


class Side:
    """Where the CUDA backend's arrays live: ``host`` (NumPy) or ``device`` (CuPy)."""

    def __init__(self, name: str, cp: ModuleType | None = None) -> None:
        self.name = name
        self.cp = cp

    def put(self, a: np.ndarray) -> Any:
        return a if self.cp is None else self.cp.asarray(a)

    def get(self, a: Any) -> np.ndarray:
        return a if self.cp is None else self.cp.asnumpy(a)


def run(opt: Any, fun: Any, generations: int) -> Any:
    """``generations`` asks and tells; ``fun`` returns F, or (F, G) with constraints."""
    for _ in range(generations):
        out = fun(opt.ask())
        if isinstance(out, tuple):
            opt.tell(*out)
        else:
            opt.tell(out)
    return opt


def same(a: Any, b: Any) -> None:
    """Equal bit for bit, dtype and shape included."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def assert_same_state(a: Any, b: Any, names: tuple[str, ...]) -> None:
    """Two optimizers at the same generation and count, their attributes ``names`` the same."""
    assert (a.generation, a.nfev) == (b.generation, b.nfev)
    for name in names:
        same(getattr(a, name), getattr(b, name))

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

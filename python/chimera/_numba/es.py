"""Evolution-strategy kernels with the signatures of ``chimera._core.es`` (twin of
cpp/include/chimera/es.hpp): row i of a generation's samples is
``Stream(seed, generation, i, purpose)`` drawn ``normal()`` by ``normal()``."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ._arrays import as_array, require, require_ndim
from ._jit import jit
from .rng import next_normal, stream

# Below this many draws a parallel region costs more than it saves (as es.cpp).
_PARALLEL_GRAIN = 1 << 14


@jit()
def _rows(out: Any, lo: int, hi: int, seed: Any, generation: Any, purpose: Any) -> None:
    for i in range(lo, hi):
        st = stream(seed, generation, np.uint32(i), purpose)
        spare = 0.0
        has_spare = False
        for j in range(out.shape[1]):
            out[i, j], st, spare, has_spare = next_normal(st, spare, has_spare)


@jit(parallel=True)
def _parallel(out: Any, seed: Any, generation: Any, purpose: Any) -> None:
    for i in numba.prange(out.shape[0]):
        _rows(out, i, i + 1, seed, generation, purpose)


def standard_normal(out: Any, seed: Any, generation: Any, purpose: Any) -> None:
    """Fills ``out`` (rows, cols) float64 with row i from Stream(seed, generation, i, purpose)."""
    out = as_array(out, "out")
    require(out.dtype == np.float64, "out must be a NumPy array of dtype float64")
    require_ndim(out, 2, "out")
    require(bool(out.flags.c_contiguous), "out must be C-contiguous")
    require(bool(out.flags.writeable), "out must be writeable")
    require(out.shape[0] < 2**32, "out has more than 2^32 rows")
    s, g, p = np.uint64(seed), np.uint32(generation), np.uint32(purpose)
    if out.size >= _PARALLEL_GRAIN:
        _parallel(out, s, g, p)
    else:
        _rows(out, 0, out.shape[0], s, g, p)

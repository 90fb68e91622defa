"""The CUDA multi-objective kernels (``chimera._cuda.moo``) against the C++ ones.

docs/kernels.md is the contract: the same fronts, and crowding distances and associations
bit for bit. Every test runs with NumPy arrays (copied to the GPU and back) and, when CuPy is
installed, with CuPy arrays; each skips where ``chimera._cuda`` was not built or no GPU is usable.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

import chimera
from chimera.directions import das_dennis
from chimera.problems import DTLZ2, ZDT1
from helpers import Side

pytestmark = pytest.mark.cuda

INF = np.inf


def objective_set(kind: str, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "grid":  # few distinct values: ties and duplicate rows everywhere
        return rng.integers(0, 4, (n, m)).astype(np.float64)
    if kind == "special":
        pool = np.array([0.0, -0.0, 1.0, 1.5, -2.0, 1e-300, 1e300, -1e300, INF, -INF])
        return rng.choice(pool, (n, m))
    if kind == "front":  # one smooth front plus dominated copies: few, large fronts
        F = rng.random((n, m))
        F /= np.linalg.norm(F, axis=1, keepdims=True)
        return F + rng.integers(0, 3, (n, 1))
    return rng.normal(size=(n, m))


def ranks(kernels: ModuleType, F: np.ndarray, side: Side | None = None) -> np.ndarray:
    put, get = (side.put, side.get) if side else (np.asarray, np.asarray)
    rank = put(np.full(F.shape[0], -7, dtype=np.int32))
    kernels.pareto_rank(put(F), rank)
    return get(rank)


def crowding(kernels: ModuleType, F: np.ndarray, rank: np.ndarray, side: Side | None = None):
    put, get = (side.put, side.get) if side else (np.asarray, np.asarray)
    out = put(np.full(F.shape[0], -7.0))
    kernels.crowding_distance(put(F), put(rank), out)
    return get(out)


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64)), np.flatnonzero(
        a.view(np.uint64) != b.view(np.uint64)
    )


# --------------------------------------------------------------------------------------------
# pareto_rank


@pytest.mark.parametrize("kind", ["grid", "special", "front", "normal"])
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 6, 7, 8, 11])
def test_rank_matches_cpp(cuda: ModuleType, core: ModuleType, side: Side, kind: str, m: int):
    rng = np.random.default_rng(1000 * m + len(kind))
    for n in (1, 2, 3, 129, 700):
        F = objective_set(kind, n, m, rng)
        np.testing.assert_array_equal(ranks(cuda.moo, F, side), ranks(core.moo, F))


@pytest.mark.parametrize("m", [2, 3, 5])
def test_rank_large_sets(cuda: ModuleType, core: ModuleType, m: int) -> None:
    """Several tiles of dominators per block and many blocks per front."""
    rng = np.random.default_rng(m)
    for kind in ("front", "normal", "grid"):
        F = objective_set(kind, 20_000, m, rng)
        np.testing.assert_array_equal(ranks(cuda.moo, F), ranks(core.moo, F))


def test_rank_chains_antichains_and_duplicates(cuda: ModuleType, side: Side) -> None:
    n = 1500  # a chain: one row per front, so hundreds of peeling batches
    chain = np.repeat(np.arange(n, dtype=np.float64)[:, None], 3, axis=1)[::-1].copy()
    np.testing.assert_array_equal(ranks(cuda.moo, chain, side), np.arange(n)[::-1])
    t = np.linspace(0.0, 1.0, n)
    antichain = np.stack([t, 1.0 - t], axis=1)
    np.testing.assert_array_equal(ranks(cuda.moo, antichain, side), np.zeros(n))
    duplicates = np.ones((n, 4))
    np.testing.assert_array_equal(ranks(cuda.moo, duplicates, side), np.zeros(n))
    assert ranks(cuda.moo, np.empty((0, 3)), side).shape == (0,)


def test_public_pareto_rank_on_cuda(cuda: ModuleType) -> None:
    rng = np.random.default_rng(5)
    F = rng.normal(size=(300, 3))
    cv = np.where(rng.random(300) < 0.3, rng.random(300), 0.0)
    np.testing.assert_array_equal(
        chimera.evolution.pareto_rank(F, constraint_violation=cv, backend="cuda"),
        chimera.evolution.pareto_rank(F, constraint_violation=cv, backend="cpp"),
    )


# --------------------------------------------------------------------------------------------
# crowding_distance, associate, niche_select


@pytest.mark.parametrize("kind", ["grid", "special", "front", "normal"])
@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_crowding_bit_for_bit(cuda: ModuleType, core: ModuleType, side: Side, kind: str, m: int):
    rng = np.random.default_rng(77 * m + len(kind))
    for n in (1, 2, 3, 4, 60, 2000):
        F = objective_set(kind, n, m, rng)
        rank = ranks(core.moo, F)
        same_bits(crowding(cuda.moo, F, rank, side), crowding(core.moo, F, rank))


def test_crowding_signed_zero_ties(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    """-0.0 and +0.0 are equal values: ties keep row order on every backend."""
    F = np.array([[0.0, 3.0], [-0.0, 2.0], [0.0, 1.0], [-0.0, 0.5], [1.0, 0.0]])
    rank = np.zeros(5, dtype=np.int32)
    same_bits(crowding(cuda.moo, F, rank, side), crowding(core.moo, F, rank))


@pytest.mark.parametrize("m,p", [(2, 12), (3, 12), (5, 6), (8, 3)])
def test_associate_bit_for_bit(cuda: ModuleType, core: ModuleType, side: Side, m: int, p: int):
    rng = np.random.default_rng(m)
    W = das_dennis(p, m)
    F = np.abs(rng.normal(size=(1000, m)))
    F[:5] = W[:5] * 2.0  # on a direction: distance 0
    F[5] = 0.0
    out = {}
    for name, kernels, sd in (("cuda", cuda.moo, side), ("cpp", core.moo, None)):
        put, get = (sd.put, sd.get) if sd else (np.asarray, np.asarray)
        ref, dist = put(np.full(1000, -1, np.int32)), put(np.full(1000, -1.0))
        kernels.associate(put(F), put(W), ref, dist)
        out[name] = get(ref), get(dist)
    np.testing.assert_array_equal(out["cuda"][0], out["cpp"][0])
    same_bits(out["cuda"][1], out["cpp"][1])


def test_niche_select_matches_cpp(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    rng = np.random.default_rng(3)
    for trial in range(20):
        h, c = int(rng.integers(1, 30)), int(rng.integers(1, 80))
        count = rng.integers(0, 3, h).astype(np.int32)
        ref = rng.integers(0, h, c).astype(np.int32)
        dist = rng.choice([0.0, 0.5, 1.0, 2.0], c)
        k = int(rng.integers(0, c + 1))
        want = np.full(k, -1, np.int32)
        core.moo.niche_select(count, ref, dist, k, 11, trial, want)
        got = side.put(np.full(k, -1, np.int32))
        cuda.moo.niche_select(side.put(count), side.put(ref), side.put(dist), k, 11, trial, got)
        np.testing.assert_array_equal(side.get(got), want)


def test_errors_match_cpp(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    F = np.zeros((4, 2))
    F[2, 1] = np.nan
    for kernels, sd in ((cuda.moo, side), (core.moo, Side("host"))):
        with pytest.raises(ValueError, match="NaN"):
            kernels.pareto_rank(sd.put(F), sd.put(np.empty(4, np.int32)))
        with pytest.raises(ValueError, match="NaN"):
            kernels.crowding_distance(sd.put(F), sd.put(np.zeros(4, np.int32)), sd.put(np.empty(4)))
        with pytest.raises(ValueError, match="front indices"):
            kernels.crowding_distance(
                sd.put(np.zeros((4, 2))), sd.put(np.array([0, 1, 4, 0], np.int32)),
                sd.put(np.empty(4)),
            )  # fmt: skip
        with pytest.raises(ValueError, match="rank has 3 entries"):
            kernels.pareto_rank(sd.put(np.zeros((4, 2))), sd.put(np.empty(3, np.int32)))
        with pytest.raises(ValueError, match="reference indices"):
            kernels.niche_select(
                sd.put(np.zeros(2, np.int32)), sd.put(np.array([0, 2], np.int32)),
                sd.put(np.zeros(2)), 1, 0, 0, sd.put(np.empty(1, np.int32)),
            )  # fmt: skip
        with pytest.raises(ValueError, match="W has 3 entries along axis 1"):
            kernels.associate(
                sd.put(np.zeros((4, 2))), sd.put(np.ones((2, 3))),
                sd.put(np.empty(4, np.int32)), sd.put(np.empty(4)),
            )  # fmt: skip


# --------------------------------------------------------------------------------------------
# The optimizers on the CUDA backend


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3"])
def test_optimizers_on_cuda_match_cpp(cuda: ModuleType, algorithm: str) -> None:
    """Same draws and decisions as cpp; float genomes agree to the rounding of pow (SBX and
    polynomial mutation), which is far below any gap between objective values here."""
    problem, dim = (ZDT1(), 12) if algorithm == "nsga2" else (DTLZ2(n_obj=3), 7)
    results = {
        backend: chimera.minimize(
            problem,
            problem.bounds(dim),
            algorithm=algorithm,
            n_obj=problem.n_obj,
            pop_size=40,
            max_evals=40 * 15,
            seed=9,
            backend=backend,
        )
        for backend in ("cuda", "cpp")
    }
    np.testing.assert_allclose(results["cuda"].pareto_f, results["cpp"].pareto_f, rtol=0, atol=1e-9)
    np.testing.assert_allclose(results["cuda"].pareto_x, results["cpp"].pareto_x, rtol=0, atol=1e-9)

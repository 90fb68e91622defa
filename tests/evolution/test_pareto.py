"""Pareto ranking, crowding distance and the NSGA-III niching kernels.

The kernels of ``chimera._core.moo`` and ``chimera._numba.moo`` are held to brute-force
references written from the definitions (peeling non-dominated sets, crowding per objective,
perpendicular distance to each direction, the niching procedure draw for draw), to each other
bit for bit, and to moocore on larger sets; the public wrappers of ``chimera.evolution.pareto``
add constraint domination and refuse bad input with ``chimera.ValidationError``.
"""

from __future__ import annotations

import math
from typing import Any

import moocore
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chimera
from chimera import ValidationError
from chimera._backend import resolve
from chimera.evolution import constraint_violation, crowding_distance, pareto_rank
from reference import Stream

INF = math.inf
NICHE = 5  # the purpose word of the niching stream (rng.hpp kNiche)
BACKENDS = [name for name in ("cpp", "numba") if chimera.backends()[name].available]
both_backends = pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the cpp and numba backends")


def moo(name: str) -> Any:
    return resolve(name, "moo")[1]


# --- references, written from the definitions ------------------------------------------------


def dominance(F: np.ndarray) -> np.ndarray:
    """D[i, j]: row i dominates row j (no worse everywhere, better somewhere). O(n^2 m)."""
    A, B = F[:, None, :], F[None, :, :]
    return (A <= B).all(axis=2) & (A < B).any(axis=2)


def peel(D: np.ndarray) -> np.ndarray:
    """Fronts by repeatedly removing the rows no remaining row dominates."""
    n = D.shape[0]
    rank = np.full(n, -1, dtype=np.int32)
    left = np.ones(n, dtype=bool)
    k = 0
    while left.any():
        front = left & ~(D[left].any(axis=0))
        assert front.any()
        rank[front] = k
        left &= ~front
        k += 1
    return rank


def ref_rank(F: np.ndarray) -> np.ndarray:
    return peel(dominance(F))


def ref_constrained_rank(F: np.ndarray, cv: np.ndarray) -> np.ndarray:
    """Deb's constraint domination: feasible beats infeasible, less violation beats more."""
    ok = cv <= 0.0
    both_ok = ok[:, None] & ok[None, :]
    D = (both_ok & dominance(F)) | (ok[:, None] & ~ok[None, :])
    D |= ~ok[:, None] & ~ok[None, :] & (cv[:, None] < cv[None, :])
    return peel(D)


def ref_crowding(F: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per front and objective in order: stable sort (ties by row), inf at both ends, the
    neighbours' gap over the range added in the interior; fronts of <= 2 rows all inf."""
    n, m = F.shape
    rows = F.tolist()  # Python floats: inf - inf is a quiet NaN, as in C
    out = np.zeros(n)
    for k in np.unique(rank):
        members = np.flatnonzero(rank == k).tolist()
        if len(members) <= 2:
            out[members] = INF
            continue
        for j in range(m):
            v = [rows[r][j] for r in members]
            order = sorted(range(len(members)), key=v.__getitem__)  # sorted() is stable
            out[members[order[0]]] = out[members[order[-1]]] = INF
            span = v[order[-1]] - v[order[0]]
            if not span > 0.0 or not math.isfinite(span):
                continue
            for i in range(1, len(order) - 1):
                out[members[order[i]]] += (v[order[i + 1]] - v[order[i - 1]]) / span
    return out


def ref_associate(F: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest direction line by perpendicular distance, ties to the lower index; sums taken
    over the objectives in order."""
    n, m = F.shape
    h = W.shape[0]
    ww = np.zeros(h)
    fw = np.zeros((n, h))
    for t in range(m):
        ww = ww + W[:, t] * W[:, t]
        fw = fw + F[:, t, None] * W[None, :, t]
    proj = fw / ww[None, :]
    d2 = np.zeros((n, h))
    for t in range(m):
        e = F[:, t, None] - proj * W[None, :, t]
        d2 = d2 + e * e
    if h == 0 or n == 0:
        return np.zeros(n, np.int32), np.zeros(n)
    ref = d2.argmin(axis=1)  # the first minimum: ties to the lower index
    return ref.astype(np.int32), np.sqrt(d2[np.arange(n), ref])


def ref_niche_select(
    niche_count: np.ndarray, ref: np.ndarray, dist: np.ndarray, k: int, seed: int, gen: int
) -> list[int]:
    """NSGA-III niching: each pick goes to a least crowded reference that still has candidates
    (a uniform draw among them, in increasing reference order); an empty niche takes its
    nearest candidate (ties to the lower index), a crowded one a uniform draw."""
    count = niche_count.astype(np.int64).tolist()
    left = {r: [i for i in range(ref.size) if ref[i] == r] for r in range(len(count))}
    st_ = Stream(seed, gen, 0, NICHE)
    chosen = []
    for _ in range(k):
        active = [r for r in range(len(count)) if left[r]]
        low = min(count[r] for r in active)
        least = [r for r in active if count[r] == low]
        r = least[st_.below(len(least))]
        members = left[r]
        if count[r] == 0:
            pos = 0
            for i in range(1, len(members)):
                if dist[members[i]] < dist[members[pos]]:
                    pos = i
        else:
            pos = st_.below(len(members))
        chosen.append(members.pop(pos))
        count[r] += 1
    return chosen


# --- strategies ------------------------------------------------------------------------------

ELEMENTS = {
    "grid": st.integers(0, 3).map(float),
    "grid_inf": st.sampled_from([0.0, 1.0, 2.0, 3.0, INF]),
    "special": st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.0, 1e-300, 1e300, -1e300, INF, -INF]),
    "float": st.floats(-1e6, 1e6, allow_nan=False),
    "any": st.floats(allow_nan=False, allow_infinity=True),
}


@st.composite
def objective_sets(draw: Any, min_m: int = 1, max_m: int = 6, max_n: int = 40) -> np.ndarray:
    """(n, m) objectives drawn from a pool of rows, so that duplicates are common; small
    integer grids make ties in single objectives common too."""
    m = draw(st.integers(min_m, max_m))
    n = draw(st.integers(0, max_n))
    elements = ELEMENTS[draw(st.sampled_from(sorted(ELEMENTS)))]
    pool = draw(arrays(np.float64, (draw(st.integers(1, max(n, 1))), m), elements=elements))
    rows = draw(arrays(np.intp, n, elements=st.integers(0, pool.shape[0] - 1)))
    return np.ascontiguousarray(pool[rows])


@st.composite
def labelled_sets(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Objectives with front labels: their Pareto ranks, or arbitrary labels in [0, n)."""
    F = draw(objective_sets())
    n = F.shape[0]
    if n and draw(st.booleans()):
        rank = draw(arrays(np.int32, n, elements=st.integers(0, min(n - 1, 4))))
    else:
        rank = ref_rank(F)
    return F, rank


def kernel_rank(backend: str, F: np.ndarray) -> np.ndarray:
    rank = np.full(F.shape[0], -7, dtype=np.int32)
    assert moo(backend).pareto_rank(F, rank) is None
    return rank


def kernel_crowding(backend: str, F: np.ndarray, rank: np.ndarray) -> np.ndarray:
    out = np.full(F.shape[0], -7.0)
    assert moo(backend).crowding_distance(F, rank, out) is None
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


# --- Pareto ranks ----------------------------------------------------------------------------


@given(F=objective_sets())
def test_rank_matches_brute_force(backend: str, F: np.ndarray) -> None:
    want = ref_rank(F)
    np.testing.assert_array_equal(kernel_rank(backend, F), want)
    got = pareto_rank(F, backend=backend)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)


@given(F=objective_sets(min_m=2, max_m=4), data=st.data())
def test_rank_does_not_depend_on_row_order(backend: str, F: np.ndarray, data: Any) -> None:
    perm = np.array(data.draw(st.permutations(range(F.shape[0]))), dtype=np.intp)
    rank = kernel_rank(backend, F)
    np.testing.assert_array_equal(kernel_rank(backend, F[perm]), rank[perm])


@pytest.mark.parametrize("m", [1, 2, 3, 4, 6])
def test_rank_chains_antichains_and_duplicates(backend: str, m: int) -> None:
    n = 25
    chain = np.repeat(np.arange(n, dtype=float)[::-1, None], m, axis=1)
    np.testing.assert_array_equal(kernel_rank(backend, chain), np.arange(n)[::-1])
    same = np.full((n, m), 2.5)
    np.testing.assert_array_equal(kernel_rank(backend, same), np.zeros(n))
    if m >= 2:
        anti = np.zeros((n, m))
        anti[:, 0] = np.arange(n)
        anti[:, 1] = -np.arange(n)
        np.testing.assert_array_equal(kernel_rank(backend, anti), np.zeros(n))
    inf = np.array([[INF] * m, [0.0] * m, [INF] * m, [-INF] * m])
    np.testing.assert_array_equal(kernel_rank(backend, inf), [2, 1, 2, 0])
    assert kernel_rank(backend, np.zeros((0, m))).shape == (0,)


@pytest.mark.parametrize("m", [2, 3, 5, 8])
@pytest.mark.parametrize("kind", ["normal", "grid", "simplex"])
def test_rank_of_large_sets_matches_moocore(backend: str, m: int, kind: str) -> None:
    rng = np.random.default_rng(1000 * m + len(kind))
    n = 2000
    if kind == "normal":
        F = rng.normal(size=(n, m))
    elif kind == "grid":  # heavy ties and duplicates
        F = rng.integers(0, 8, size=(n, m)).astype(float)
    else:  # many rows on a handful of nested simplices: few, large fronts
        F = rng.dirichlet(np.ones(m), size=n) * rng.integers(1, 6, size=(n, 1))
    want = moocore.pareto_rank(F)
    np.testing.assert_array_equal(kernel_rank(backend, F), want)
    np.testing.assert_array_equal(ref_rank(F), want)
    np.testing.assert_array_equal(pareto_rank(F, backend=backend), want)
    rank = kernel_rank(backend, F)
    np.testing.assert_array_equal(kernel_crowding(backend, F, rank), ref_crowding(F, rank))


@both_backends
@given(F=objective_sets())
def test_rank_backends_agree(F: np.ndarray) -> None:
    np.testing.assert_array_equal(kernel_rank("cpp", F), kernel_rank("numba", F))


# --- crowding distance -----------------------------------------------------------------------


@given(case=labelled_sets())
def test_crowding_matches_definition(backend: str, case: tuple[np.ndarray, np.ndarray]) -> None:
    F, rank = case
    want = ref_crowding(F, rank)
    # Summed in the same order as the definition, so the same bits (not just close).
    same_bits(kernel_crowding(backend, F, rank), want)
    same_bits(crowding_distance(F, rank, backend=backend), want)
    if np.array_equal(rank, ref_rank(F)):
        same_bits(crowding_distance(F, backend=backend), want)


@both_backends
@given(case=labelled_sets())
def test_crowding_backends_agree_bit_for_bit(case: tuple[np.ndarray, np.ndarray]) -> None:
    F, rank = case
    same_bits(kernel_crowding("cpp", F, rank), kernel_crowding("numba", F, rank))


def test_crowding_small_cases(backend: str) -> None:
    # One front of five on a line: ends inf, interior (gap / range) summed over both axes.
    F = np.array([[0.0, 4.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    got = crowding_distance(F, backend=backend)
    np.testing.assert_array_equal(got, [INF, 1.0, 1.0, 1.0, INF])
    # Fronts of one and two rows are all inf; a flat objective adds nothing.
    F = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [0.0, 4.0]])
    np.testing.assert_array_equal(
        crowding_distance(F, np.zeros(4), backend=backend), [INF, 2 / 3, 2 / 3, INF]
    )
    np.testing.assert_array_equal(
        crowding_distance(F, [0, 1, 1, 2], backend=backend), [INF, INF, INF, INF]
    )
    # Ties: the lower row is first in the sort, so it takes the left end.
    F = np.array([[1.0], [1.0], [1.0], [2.0]])
    np.testing.assert_array_equal(
        crowding_distance(F, np.zeros(4), backend=backend), [INF, 0, 1, INF]
    )
    # An infinite range (an inf in the front) adds nothing for that objective.
    F = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, INF], [3.0, 3.0]])
    np.testing.assert_array_equal(
        crowding_distance(F, np.zeros(4), backend=backend), [INF, 2 / 3, INF, INF]
    )
    assert crowding_distance(np.zeros((0, 3)), backend=backend).shape == (0,)


def test_crowding_parallel_path_and_thread_count(backend: str) -> None:
    # 12,000 rows x 3 objectives is above the kernels' 2^15-value parallel grain.
    rng = np.random.default_rng(7)
    F = np.round(rng.normal(size=(12_000, 3)), 2)
    rank = kernel_rank(backend, F)
    assert rank.max() > 10
    before = chimera._core.ga.num_threads()
    try:
        runs = []
        for threads in (1, 2):
            chimera.set_num_threads(threads)
            runs.append(kernel_crowding(backend, F, rank))
    finally:
        chimera.set_num_threads(before)
    same_bits(runs[0], runs[1])
    same_bits(runs[0], ref_crowding(F, rank))


# --- constraint domination -------------------------------------------------------------------

VIOLATIONS = st.sampled_from([0.0, 0.0, 0.0, -0.0, 1e-300, 0.5, 1.0, 1.0, 2.0, INF])


@given(F=objective_sets(max_m=4), data=st.data())
def test_constrained_rank_matches_constraint_domination(
    backend: str, F: np.ndarray, data: Any
) -> None:
    cv = data.draw(arrays(np.float64, F.shape[0], elements=VIOLATIONS))
    want = ref_constrained_rank(F, cv)
    got = pareto_rank(F, constraint_violation=cv, backend=backend)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    ok = cv <= 0
    if ok.any() and (~ok).any():  # feasible first, then infeasible by increasing violation
        assert got[ok].max() < got[~ok].min()
    for a in np.unique(cv[~ok]):
        assert np.unique(got[cv == a]).size == 1  # equal violations share a front


def test_constrained_rank_examples(backend: str) -> None:
    F = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0], [0.0, 0.0], [9.0, 0.0], [2.0, 2.0]])
    cv = np.array([3.0, 0.0, 0.0, 1.0, 3.0, 0.5])
    # Feasible rows 1 and 2 form fronts 0 and 1; then 0.5, 1.0 and 3.0 (shared by rows 0 and 4).
    np.testing.assert_array_equal(
        pareto_rank(F, constraint_violation=cv, backend=backend), [4, 0, 1, 3, 4, 2]
    )
    np.testing.assert_array_equal(
        pareto_rank(F, constraint_violation=np.zeros(6), backend=backend), pareto_rank(F)
    )
    np.testing.assert_array_equal(
        pareto_rank(F, constraint_violation=np.ones(6), backend=backend), np.zeros(6)
    )
    np.testing.assert_array_equal(
        pareto_rank(F, constraint_violation=cv + 1, backend=backend), [3, 0, 0, 2, 3, 1]
    )


def test_constraint_violation_sums_positive_parts() -> None:
    G = np.array([[-1.0, 0.0, 2.0], [0.5, 0.25, -3.0], [-0.0, -1.0, -2.0]])
    np.testing.assert_array_equal(constraint_violation(G), [2.0, 0.75, 0.0])
    np.testing.assert_array_equal(constraint_violation([1.0, -1.0, 0.0]), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(constraint_violation(G, 3), [2.0, 0.75, 0.0])
    with pytest.raises(ValidationError, match=r"shape \(4, n_constraints\)"):
        constraint_violation(G, 4)
    with pytest.raises(ValidationError, match="NaN"):
        constraint_violation([[0.0, np.nan]])
    with pytest.raises(ValidationError, match="G must"):
        constraint_violation(np.zeros((2, 2, 2)))
    with pytest.raises(ValidationError, match="numeric"):
        constraint_violation([["a", "b"]])


# --- refusals --------------------------------------------------------------------------------

GOOD = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])


@pytest.mark.parametrize(
    ("F", "options", "match"),
    [
        ([[0.0, np.nan], [1.0, 0.0]], {}, r"NaN in rows \[0\]"),
        ([0.0, 1.0, 2.0], {}, r"shape \(n, n_obj\)"),
        (np.zeros((2, 2, 2)), {}, r"shape \(n, n_obj\)"),
        (np.zeros((3, 0)), {}, "n_obj >= 1"),
        ([["a", "b"]], {}, "numeric"),
        (GOOD, {"constraint_violation": [0.0, 1.0]}, r"shape \(3,\)"),
        (GOOD, {"constraint_violation": [0.0, -1.0, 0.0]}, ">= 0"),
        (GOOD, {"constraint_violation": [0.0, np.nan, 0.0]}, "no NaN"),
        (GOOD, {"backend": "fortran"}, "unknown backend"),
    ],
)
def test_pareto_rank_refuses(F: Any, options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        pareto_rank(F, **options)


@pytest.mark.parametrize(
    ("F", "rank", "match"),
    [
        ([[0.0, np.nan]], None, "NaN"),
        (np.zeros(3), None, "shape"),
        (GOOD, [0, 0], r"rank must have shape \(3,\)"),
        (GOOD, [[0, 0, 0]], r"rank must have shape \(3,\)"),
        (GOOD, [0, 3, 0], r"front indices in \[0, len\(F\)\)"),
        (GOOD, [0, -1, 0], r"front indices in \[0, len\(F\)\)"),
    ],
)
def test_crowding_distance_refuses(F: Any, rank: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        crowding_distance(F, rank)


def test_kernels_refuse_bad_arrays(backend: str) -> None:
    k = moo(backend)
    r3 = np.zeros(3, np.int32)
    with pytest.raises(ValueError, match="F contains NaN"):
        k.pareto_rank(np.array([[0.0, np.nan], [1, 1], [2, 2]]), r3)
    with pytest.raises(ValueError, match="F must be 2-dimensional"):
        k.pareto_rank(np.zeros(3), r3)
    with pytest.raises(ValueError, match="rank has 2 entries along axis 0, expected 3"):
        k.pareto_rank(GOOD, np.zeros(2, np.int32))
    with pytest.raises(ValueError, match="rank must be 1-dimensional"):
        k.pareto_rank(GOOD, np.zeros((3, 1), np.int32))
    with pytest.raises(TypeError, match="rank must be a NumPy array of dtype int32"):
        k.pareto_rank(GOOD, np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="rank"):
        k.pareto_rank(GOOD, [0, 0, 0])
    readonly = np.zeros(3, np.int32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="rank must be writeable"):
        k.pareto_rank(GOOD, readonly)
    with pytest.raises(ValueError, match="rank must be C-contiguous"):
        k.pareto_rank(GOOD, np.zeros(6, np.int32)[::2])

    out = np.zeros(3)
    with pytest.raises(ValueError, match="F contains NaN"):
        k.crowding_distance(np.array([[0.0, np.nan], [1, 1], [2, 2]]), r3, out)
    with pytest.raises(ValueError, match="rank has 2 entries along axis 0, expected 3"):
        k.crowding_distance(GOOD, np.zeros(2, np.int32), out)
    with pytest.raises(ValueError, match="out has 4 entries along axis 0, expected 3"):
        k.crowding_distance(GOOD, r3, np.zeros(4))
    with pytest.raises(TypeError, match="out must be a NumPy array of dtype float64"):
        k.crowding_distance(GOOD, r3, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="front indices"):
        k.crowding_distance(GOOD, np.array([0, 3, 0], np.int32), out)
    with pytest.raises(ValueError, match="front indices"):
        k.crowding_distance(GOOD, np.array([0, -1, 0], np.int32), out)


def test_kernels_convert_inputs_like_each_other(backend: str) -> None:
    """Inputs (not outputs) are converted: lists, int arrays and strided views all work."""
    k = moo(backend)
    F = np.asfortranarray(np.array([[3, 0], [0, 3], [3, 3], [1, 1]]))
    rank = np.zeros(4, np.int32)
    k.pareto_rank(F, rank)
    np.testing.assert_array_equal(rank, [0, 0, 1, 0])
    out = np.zeros(4)
    k.crowding_distance(F.tolist(), rank.astype(np.int64), out)
    np.testing.assert_array_equal(out, ref_crowding(F.astype(float), rank))


# --- reference-direction association ---------------------------------------------------------


@st.composite
def association_cases(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 5))
    n = draw(st.integers(0, 30))
    h = draw(st.integers(1, 12))
    if draw(st.booleans()):  # small integers: exact ties between directions
        F = draw(arrays(np.float64, (n, m), elements=st.integers(0, 3).map(float)))
        W = draw(arrays(np.float64, (h, m), elements=st.integers(0, 2).map(float)))
    else:
        F = draw(arrays(np.float64, (n, m), elements=st.floats(-2.0, 5.0)))
        W = draw(arrays(np.float64, (h, m), elements=st.just(0.0) | st.floats(0.01, 1.0)))
    W[W.sum(axis=1) == 0, 0] = 1.0
    return F, W


def kernel_associate(backend: str, F: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, ...]:
    ref = np.full(F.shape[0], -7, np.int32)
    dist = np.full(F.shape[0], -7.0)
    assert moo(backend).associate(F, W, ref, dist) is None
    return ref, dist


@given(case=association_cases())
def test_associate_matches_reference(backend: str, case: tuple[np.ndarray, np.ndarray]) -> None:
    F, W = case
    want_ref, want_dist = ref_associate(F, W)
    ref, dist = kernel_associate(backend, F, W)
    np.testing.assert_array_equal(ref, want_ref)
    same_bits(dist, want_dist)
    # The geometry, independently: the distance from F to the line through W[ref].
    if F.shape[0]:
        w = W[ref] / np.linalg.norm(W[ref], axis=1, keepdims=True)
        perp = F - (F * w).sum(axis=1, keepdims=True) * w
        np.testing.assert_allclose(dist, np.linalg.norm(perp, axis=1), rtol=1e-9, atol=1e-9)


def test_associate_examples(backend: str) -> None:
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    F = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [1.0, 2.0], [2.0, 1.0], [0.0, 0.0]])
    ref, dist = kernel_associate(backend, F, W)
    np.testing.assert_array_equal(ref, [0, 1, 2, 2, 2, 0])
    np.testing.assert_allclose(dist, [0, 0, 0, math.sqrt(0.5), math.sqrt(0.5), 0])
    # Exact ties go to the lower index, and the length of a direction does not matter.
    ref, dist = kernel_associate(backend, np.array([[1.0, 1.0]]), W[:2] * [[3.0], [0.5]])
    np.testing.assert_array_equal(ref, [0])
    np.testing.assert_array_equal(dist, [1.0])
    ref, dist = kernel_associate(backend, np.zeros((0, 2)), W)
    assert ref.shape == dist.shape == (0,)


def test_associate_parallel_path(backend: str) -> None:
    rng = np.random.default_rng(3)
    F = rng.uniform(0, 1, size=(8000, 3))
    W = chimera.directions.das_dennis(12, 3)  # 8000 x 91 x 3 is above the 2^21 parallel grain
    before = chimera._core.ga.num_threads()
    try:
        runs = []
        for threads in (1, 2):
            chimera.set_num_threads(threads)
            runs.append(kernel_associate(backend, F, W))
    finally:
        chimera.set_num_threads(before)
    want_ref, want_dist = ref_associate(F, W)
    for ref, dist in runs:
        np.testing.assert_array_equal(ref, want_ref)
        same_bits(dist, want_dist)


@both_backends
@given(case=association_cases())
def test_associate_backends_agree_bit_for_bit(case: tuple[np.ndarray, np.ndarray]) -> None:
    F, W = case
    for a, b in zip(kernel_associate("cpp", F, W), kernel_associate("numba", F, W), strict=True):
        same_bits(a, b)


def test_associate_refuses_bad_arrays(backend: str) -> None:
    k = moo(backend)
    F, W = np.zeros((3, 2)), np.eye(2)
    ref, dist = np.zeros(3, np.int32), np.zeros(3)
    with pytest.raises(ValueError, match="W has 3 entries along axis 1, expected 2"):
        k.associate(F, np.ones((2, 3)), ref, dist)
    with pytest.raises(ValueError, match="W must have between 1"):
        k.associate(F, np.zeros((0, 2)), ref, dist)
    with pytest.raises(ValueError, match="F must be 2-dimensional"):
        k.associate(np.zeros(3), W, ref, dist)
    with pytest.raises(ValueError, match="ref has 2 entries"):
        k.associate(F, W, np.zeros(2, np.int32), dist)
    with pytest.raises(ValueError, match="dist has 4 entries"):
        k.associate(F, W, ref, np.zeros(4))
    with pytest.raises(TypeError, match="ref must be a NumPy array of dtype int32"):
        k.associate(F, W, np.zeros(3), dist)
    with pytest.raises(TypeError, match="dist must be a NumPy array of dtype float64"):
        k.associate(F, W, ref, np.zeros(3, np.int32))


# --- niche selection -------------------------------------------------------------------------


@st.composite
def niche_cases(draw: Any) -> tuple[Any, ...]:
    h = draw(st.integers(1, 8))
    c = draw(st.integers(0, 30))
    niche = draw(arrays(np.int32, h, elements=st.integers(0, 3)))
    ref = draw(arrays(np.int32, c, elements=st.integers(0, h - 1)))
    dist = draw(arrays(np.float64, c, elements=st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.0])))
    k = draw(st.integers(0, c))
    seed = draw(st.integers(0, 2**64 - 1))
    gen = draw(st.integers(0, 2**32 - 1))
    return niche, ref, dist, k, seed, gen


def kernel_niche(
    backend: str, niche: Any, ref: Any, dist: Any, k: int, seed: int, gen: int
) -> np.ndarray:
    chosen = np.full(k, -7, np.int32)
    assert moo(backend).niche_select(niche, ref, dist, k, seed, gen, chosen) is None
    return chosen


def check_niching(niche: Any, ref: Any, dist: Any, chosen: np.ndarray) -> None:
    """The properties, whatever was drawn: distinct candidates, each from a least crowded
    reference that still had candidates, the nearest one when that niche was empty."""
    assert len(set(chosen.tolist())) == chosen.size
    assert ((chosen >= 0) & (chosen < ref.size)).all()
    count = niche.astype(np.int64).copy()
    taken = np.zeros(ref.size, dtype=bool)
    for i in chosen:
        active = np.unique(ref[~taken])
        r = ref[i]
        assert count[r] == count[active].min()
        if count[r] == 0:
            rows = np.flatnonzero((ref == r) & ~taken)
            assert i == rows[np.argmin(dist[rows])]  # the first minimum: the lower index
        taken[i] = True
        count[r] += 1


@given(case=niche_cases())
def test_niche_select_matches_reference(backend: str, case: tuple[Any, ...]) -> None:
    niche, ref, dist = case[:3]
    chosen = kernel_niche(backend, *case)
    assert chosen.tolist() == ref_niche_select(*case)
    check_niching(niche, ref, dist, chosen)
    np.testing.assert_array_equal(kernel_niche(backend, *case), chosen)  # same seed, same picks


@both_backends
@given(case=niche_cases())
def test_niche_select_backends_agree(case: tuple[Any, ...]) -> None:
    np.testing.assert_array_equal(kernel_niche("cpp", *case), kernel_niche("numba", *case))


def test_empty_niche_takes_its_nearest_candidate(backend: str) -> None:
    niche = np.array([0, 5, 2], np.int32)
    ref = np.array([1, 0, 0, 2, 0, 1], np.int32)
    dist = np.array([0.0, 0.3, 0.1, 0.0, 0.1, 0.0])
    for seed in range(20):
        # Reference 0 is the only empty niche: its nearest candidate, the lower of the two
        # at 0.1, goes first; then 0 has one member and 2 has two, so 0 again.
        chosen = kernel_niche(backend, niche, ref, dist, 2, seed, 3)
        assert chosen[0] == 2
        assert chosen[1] in (1, 4)
    # k = all candidates: every one of them, once.
    every = kernel_niche(backend, niche, ref, dist, ref.size, 1, 0)
    assert sorted(every.tolist()) == list(range(ref.size))
    assert kernel_niche(backend, niche, ref, dist, 0, 1, 0).shape == (0,)
    # Different seeds spread the picks among equally crowded references.
    flat = np.zeros(4, np.int32)
    ref = np.arange(4, dtype=np.int32)
    firsts = {int(kernel_niche(backend, flat, ref, np.zeros(4), 1, s, 0)[0]) for s in range(64)}
    assert firsts == {0, 1, 2, 3}


def test_niche_select_refuses_bad_arrays(backend: str) -> None:
    k = moo(backend)
    niche, ref, dist = np.zeros(2, np.int32), np.array([0, 1, 1], np.int32), np.zeros(3)
    out = np.zeros(2, np.int32)
    with pytest.raises(ValueError, match="k must be between 0 and the number of candidates"):
        k.niche_select(niche, ref, dist, 4, 0, 0, np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="k must be between"):
        k.niche_select(niche, ref, dist, -1, 0, 0, out)
    with pytest.raises(ValueError, match="ref must hold reference indices"):
        k.niche_select(niche, np.array([0, 2, 1], np.int32), dist, 2, 0, 0, out)
    with pytest.raises(ValueError, match="ref must hold reference indices"):
        k.niche_select(niche, np.array([0, -1, 1], np.int32), dist, 2, 0, 0, out)
    with pytest.raises(ValueError, match="niche_count must be non-negative"):
        k.niche_select(np.array([0, -1], np.int32), ref, dist, 2, 0, 0, out)
    with pytest.raises(ValueError, match="dist has 2 entries"):
        k.niche_select(niche, ref, np.zeros(2), 2, 0, 0, out)
    with pytest.raises(ValueError, match="chosen has 3 entries along axis 0, expected 2"):
        k.niche_select(niche, ref, dist, 2, 0, 0, np.zeros(3, np.int32))
    with pytest.raises(TypeError, match="chosen must be a NumPy array of dtype int32"):
        k.niche_select(niche, ref, dist, 2, 0, 0, np.zeros(2, np.int64))
    with pytest.raises(TypeError):
        k.niche_select(niche, ref, dist, 2, -1, 0, out)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_rank_treats_signed_zeros_as_equal(backend: str, m: int) -> None:
    # -0.0 == 0.0: the row with 0.0 and a smaller second objective dominates the one with -0.0
    # (the two-objective sort keys the doubles' bits, where the zeros differ)
    F = np.ones((2, m))
    F[0, 0], F[1, 0] = -0.0, 0.0
    F[1, 1] = 0.5
    np.testing.assert_array_equal(kernel_rank(backend, F), [1, 0])
    np.testing.assert_array_equal(kernel_rank(backend, F[::-1]), [0, 1])

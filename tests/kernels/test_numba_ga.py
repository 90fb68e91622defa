"""The Numba backend (chimera._numba) against the C++ kernels (chimera._core), draw for draw.

Parents, integer and boolean genomes must be identical, float genomes equal to 1e-12 (the
rounding of log/sin/cos/pow is all the two may differ by).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

numba = pytest.importorskip("numba")

from chimera import _core  # noqa: E402
from chimera._numba import ga as nga  # noqa: E402
from chimera._numba import rng as nrng  # noqa: E402
from reference import KAT  # noqa: E402

SEEDS = st.integers(0, 2**64 - 1)
WORDS = st.integers(0, 2**32 - 1)
TWO32 = 1 << 32

# --- Philox and the streams -----------------------------------------------------------------


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox_known_answers(ctr: list[int], key: list[int], expected: list[int]) -> None:
    got = nrng.philox4x32_10(np.array(ctr, np.uint32), np.array(key, np.uint32))
    assert got.dtype == np.uint32
    assert got.tolist() == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(WORDS, min_size=4, max_size=4), st.lists(WORDS, min_size=2, max_size=2))
def test_philox_matches_cpp(ctr: list[int], key: list[int]) -> None:
    c, k = np.array(ctr, np.uint32), np.array(key, np.uint32)
    assert nrng.philox4x32_10(c, k).tolist() == _core.rng.philox4x32_10(c, k).tolist()


@settings(max_examples=50, deadline=None)
@given(SEEDS, WORDS, WORDS, st.integers(0, 4), st.integers(0, 41))
def test_stream_draws_match_cpp(seed: int, gen: int, ind: int, purpose: int, n: int) -> None:
    args = (seed, gen, ind, purpose, n)
    np.testing.assert_array_equal(nrng.u32(*args), _core.rng.u32(*args))
    np.testing.assert_array_equal(nrng.uniform(*args), _core.rng.uniform(*args))
    np.testing.assert_allclose(nrng.normal(*args), _core.rng.normal(*args), rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    SEEDS,
    WORDS,
    WORDS,
    st.one_of(st.integers(1, 10), st.integers(1, 2**32 - 1), st.integers(2**31, 2**32 - 1)),
)
def test_below_matches_cpp(seed: int, gen: int, ind: int, bound: int) -> None:
    got = nrng.below(seed, gen, ind, 1, bound, 33)
    np.testing.assert_array_equal(got, _core.rng.below(seed, gen, ind, 1, bound, 33))
    assert (got < bound).all()


def test_rng_argument_checks() -> None:
    with pytest.raises(ValueError, match="ctr must have 4 words"):
        nrng.philox4x32_10(np.zeros(3, np.uint32), np.zeros(2, np.uint32))
    with pytest.raises(ValueError, match="key must have 2 words"):
        nrng.philox4x32_10(np.zeros(4, np.uint32), np.zeros(3, np.uint32))
    with pytest.raises(ValueError, match="n must be non-negative"):
        nrng.u32(1, 0, 0, 0, -1)
    with pytest.raises(ValueError, match="bound must be at least 1"):
        nrng.below(1, 0, 0, 0, 0, 3)
    with pytest.raises(TypeError, match="seed"):
        nrng.u32(-1, 0, 0, 0, 3)
    with pytest.raises(TypeError, match="generation"):
        nrng.uniform(1, 2**32, 0, 0, 3)
    with pytest.raises(TypeError, match="individual"):
        nrng.normal(1, 0, 1.5, 0, 3)


# --- the GA kernels -------------------------------------------------------------------------

DTYPES = ("float64", "float32", "int32", "bool")
CROSSOVERS = {"float64": range(6), "float32": range(6), "int32": range(4), "bool": range(4)}
MUTATIONS = {"float64": (0, 1, 2), "float32": (0, 1, 2), "int32": (0, 4), "bool": (0, 3, 4)}


def threshold(p: float) -> int:
    """rng::probability_threshold."""
    if not p > 0.0:
        return 0
    if p >= 1.0:
        return TWO32
    return int(p * 4294967296.0)


def binomial_table(d: int, rate: float) -> np.ndarray:
    """floor(P(Binomial(d, rate) <= k) * 2^32) for k = 0.. while below 2^32; empty past 64."""
    if not 0.0 < rate < 1.0:
        return np.zeros(0, np.uint32)
    table, acc = [], 0.0
    for k in range(d + 1):
        acc += math.comb(d, k) * rate**k * (1.0 - rate) ** (d - k)
        v = math.floor(acc * 4294967296.0)
        if v >= TWO32:
            break
        table.append(v)
    return np.array(table if len(table) <= 64 else [], np.uint32)


def bounds_for(dtype: str, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if dtype == "bool":
        return np.zeros(d), np.ones(d)
    if dtype == "int32":
        low = rng.integers(-20, 20, d).astype(np.float64)
        return low, low + rng.integers(0, 15, d)
    low = rng.uniform(-10.0, 0.0, d)
    width = rng.uniform(0.0, 10.0, d)
    width[rng.random(d) < 0.1] = 0.0  # empty ranges: polynomial skips, reflect clips
    return low, low + width


def population(
    dtype: str, n: int, low: np.ndarray, high: np.ndarray, outside: bool, rng: np.random.Generator
) -> np.ndarray:
    d = low.shape[0]
    if dtype == "bool":
        return rng.integers(0, 2, (n, d)).astype(bool)
    if dtype == "int32":
        pad = 3 if outside else 0
        return rng.integers(low - pad, high + pad + 1, (n, d)).astype(np.int32)
    pad = (high - low) / 2 + 0.5 if outside else 0.0
    return rng.uniform(low - pad, high + pad, (n, d)).astype(dtype)


@st.composite
def breed_cases(draw: st.DrawFn) -> tuple:
    dtype = draw(st.sampled_from(DTYPES))
    crossover = draw(st.sampled_from(CROSSOVERS[dtype]))
    mutation = draw(st.sampled_from(MUTATIONS[dtype]))
    n = draw(st.integers(2, 12))
    d = draw(st.integers(1, 24))
    m = draw(st.integers(0, 13))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    low, high = bounds_for(dtype, d, rng)
    X = population(dtype, n, low, high, draw(st.booleans()), rng)
    f = rng.normal(size=n)
    if draw(st.booleans()):
        f = np.round(f)  # ties
    if draw(st.booleans()):
        f[rng.random(n) < 0.3] = np.inf  # nan_policy="worst"
    selection = draw(st.sampled_from((0, 1, 2)))
    size = draw(st.integers(1, 5)) if selection == 0 else draw(st.integers(1, n))
    rate = draw(st.sampled_from((0.0, 1.0 / d, 0.3, 1.0)))
    cdf = binomial_table(d, rate) if draw(st.booleans()) else np.zeros(0, np.uint32)
    crossover_param = {4: (0.0, 0.5, 1.0), 5: (1.0, 2.0, 15.0, 20.0)}.get(crossover, (0.0,))
    mutation_param = {1: (0.05, 0.1, 0.5), 2: (5.0, 20.0, 0.5)}.get(mutation, (0.0,))
    params = (
        draw(SEEDS),
        draw(WORDS),
        selection,
        size,
        crossover,
        threshold(draw(st.sampled_from((0.0, 0.5, 0.9, 1.0)))),
        draw(st.sampled_from(crossover_param)),
        mutation,
        threshold(rate),
        draw(st.sampled_from(mutation_param)),
        cdf,
        draw(st.sampled_from((0, 1))),
    )
    return X, f, low, high, m, params


def run_breed(mod: Any, X: np.ndarray, f, low, high, m: int, params: tuple) -> tuple:
    out = np.zeros((m, X.shape[1]), dtype=X.dtype)
    parents = np.full((m, 2), -1, dtype=np.int32)
    assert mod.breed(X, f, low, high, out, parents, *params) is None
    return out, parents


def assert_same_genomes(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(breed_cases())
def test_breed_matches_cpp(case: tuple) -> None:
    X, f, low, high, m, params = case
    out, parents = run_breed(nga, X, f, low, high, m, params)
    want, want_parents = run_breed(_core.ga, X, f, low, high, m, params)
    np.testing.assert_array_equal(parents, want_parents)
    assert_same_genomes(out, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("selection", [0, 1, 2])
def test_every_operator_matches_cpp(dtype: str, selection: int) -> None:
    """Each crossover x mutation x bounds of the dtype once, odd m != n, with and without table."""
    rng = np.random.default_rng(selection)
    n, d, m = 11, 37, 15
    low, high = bounds_for(dtype, d, rng)
    X = population(dtype, n, low, high, True, rng)
    f = np.round(rng.normal(size=n), 1)
    for crossover in CROSSOVERS[dtype]:
        for mutation in MUTATIONS[dtype]:
            for cdf in (np.zeros(0, np.uint32), binomial_table(d, 3.0 / d)):
                for bounds in (0, 1):
                    params = (7, 9, selection, 3, crossover, threshold(0.9), 0.5 if crossover == 4
                              else 2.0, mutation, threshold(3.0 / d), 0.5 if mutation == 1 else 20.0,
                              cdf, bounds)  # fmt: skip
                    out, parents = run_breed(nga, X, f, low, high, m, params)
                    want, want_parents = run_breed(_core.ga, X, f, low, high, m, params)
                    np.testing.assert_array_equal(parents, want_parents)
                    assert_same_genomes(out, want)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(DTYPES), st.integers(0, 9), st.integers(0, 30), SEEDS, st.data())
def test_init_uniform_matches_cpp(
    dtype: str, n: int, d: int, seed: int, data: st.DataObject
) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    if dtype == "int32":
        low = rng.integers(-100, 100, d).astype(np.float64)
        high = low + rng.integers(0, 1000, d)
    else:
        low, high = bounds_for(dtype, d, rng)
    got = np.zeros((n, d), dtype=dtype)
    want = np.zeros((n, d), dtype=dtype)
    assert nga.init_uniform(got, low, high, seed) is None
    _core.ga.init_uniform(want, low, high, seed)
    assert_same_genomes(got, want)


def test_results_do_not_depend_on_thread_count() -> None:
    most = numba.config.NUMBA_NUM_THREADS
    before = nga.num_threads()
    rng = np.random.default_rng(5)
    n, d, m = 1025, 40, 1001  # above the 2^15-gene grain, so the parallel path runs
    low, high = np.full(d, -2.0), np.full(d, 3.0)
    X = rng.uniform(-3.0, 4.0, (n, d))
    f = rng.normal(size=n)
    cases = [
        (1, 3, 1, threshold(0.9), 0.0, 1, 0, 0.1, binomial_table(d, 1.0 / d), 0),
        (0, 2, 5, threshold(0.9), 15.0, 2, threshold(0.2), 20.0, np.zeros(0, np.uint32), 1),
        (2, 1, 4, threshold(1.0), 0.5, 1, threshold(0.5), 0.3, np.zeros(0, np.uint32), 1),
    ]
    try:
        for case in cases:
            params = (123, 4, *case)
            runs = []
            for threads in (1, min(2, most), most):
                nga.set_num_threads(threads)
                assert nga.num_threads() == threads
                pop = np.empty((n, d), np.float32)
                nga.init_uniform(pop, low, high, 99)
                runs.append((*run_breed(nga, X, f, low, high, m, params), pop))
            for other in runs[1:]:
                for a, b in zip(runs[0], other, strict=True):
                    np.testing.assert_array_equal(a, b)
    finally:
        nga.set_num_threads(before)


def test_set_num_threads_is_forgiving() -> None:
    before = nga.num_threads()
    try:
        nga.set_num_threads(0)  # ignored, like the C++ backend
        assert nga.num_threads() == before
        nga.set_num_threads(10**6)  # capped at NUMBA_NUM_THREADS
        assert nga.num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        nga.set_num_threads(before)


# --- argument checks: the same exceptions as the C++ bindings -------------------------------


def good_args() -> dict:
    d = 3
    return {
        "X": np.zeros((4, d)), "f": np.zeros(4), "low": np.zeros(d), "high": np.ones(d),
        "out": np.zeros((5, d)), "parents": np.zeros((5, 2), np.int32), "seed": 1,
        "generation": 0, "selection": 0, "selection_size": 2, "crossover": 1,
        "crossover_threshold": TWO32, "crossover_param": 0.0, "mutation": 1,
        "mutation_threshold": 0, "mutation_param": 0.1, "mutation_cdf": np.zeros(0, np.uint32),
        "bounds": 0,
    }  # fmt: skip


BAD_BREED = [
    {"X": np.zeros(4)},
    {"X": np.zeros((1, 3)), "f": np.zeros(1)},
    {"X": np.zeros((6, 4))[:, :3]},
    {"out": np.zeros((5, 4))},
    {"out": np.zeros((5, 3), np.float32)},
    {"f": np.zeros(3)},
    {"f": np.zeros((4, 1))},
    {"low": np.zeros(2)},
    {"high": np.zeros((3, 1))},
    {"mutation_cdf": np.zeros(65, np.uint32)},
    {"mutation_cdf": np.zeros((2, 2), np.uint32)},
    {"selection": 3},
    {"crossover": -1},
    {"mutation": 5},
    {"bounds": 2},
    {"selection_size": 0},
    {"selection": 1, "selection_size": 5},
    {"parents": np.zeros((5, 2), np.int64)},
    {"parents": np.zeros((5, 3), np.int32)},
    {"parents": np.zeros((4, 2), np.int32)},
    {"parents": np.zeros((2, 5), np.int32).T},
    {"X": np.zeros((4, 3), np.int16), "out": np.zeros((5, 3), np.int16)},
    {"X": np.zeros((4, 3), np.int32), "out": np.zeros((5, 3), np.int32)},
    {"X": np.zeros((4, 3), bool), "out": np.zeros((5, 3), bool), "crossover": 5, "mutation": 3},
    {"X": np.zeros((4, 3), np.int32), "out": np.zeros((5, 3), np.int32), "mutation": 2},
    {"out": np.zeros((3, 5)).T},
]


def raised(fn: Any, kwargs: dict) -> BaseException | None:
    try:
        fn(**kwargs)
    except (TypeError, ValueError) as exc:
        return exc
    return None


@pytest.mark.parametrize("change", BAD_BREED, ids=[",".join(c) for c in BAD_BREED])
def test_breed_rejects_what_cpp_rejects(change: dict) -> None:
    args = good_args()
    args.update(change)
    got, want = raised(nga.breed, args), raised(_core.ga.breed, args)
    assert want is not None, "the C++ accepts this case; fix the test"
    assert type(got) is type(want)
    assert str(got) == str(want)


def test_breed_rejects_bad_scalars() -> None:
    args = good_args()
    for name, value in [("seed", -1), ("seed", 2**64), ("generation", 2**32), ("seed", 1.0),
                        ("selection", "0"), ("crossover_param", "x")]:  # fmt: skip
        bad = {**args, name: value}
        with pytest.raises(TypeError, match=name):
            nga.breed(**bad)
        with pytest.raises(TypeError):
            _core.ga.breed(**bad)
    readonly = np.zeros((5, 3))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        nga.breed(**{**args, "out": readonly})
    swapped = np.zeros((4, 3), ">f8")
    with pytest.raises(TypeError, match="X must be in native byte order"):
        nga.breed(**{**args, "X": swapped, "out": np.zeros((5, 3), ">f8")})


def test_init_uniform_rejects_what_cpp_rejects() -> None:
    for out, low in [
        (np.zeros(3), np.zeros(3)),
        (np.zeros((2, 3)), np.zeros(2)),
        (np.zeros((2, 3), np.uint16), np.zeros(3)),
        (np.zeros((3, 2)).T, np.zeros(3)),
    ]:
        got = raised(nga.init_uniform, {"out": out, "low": low, "high": low + 1, "seed": 0})
        want = raised(_core.ga.init_uniform, {"out": out, "low": low, "high": low + 1, "seed": 0})
        assert want is not None
        assert type(got) is type(want) and str(got) == str(want)


def test_m_zero_writes_nothing() -> None:
    args = good_args()
    args["out"] = np.zeros((0, 3))
    args["parents"] = np.zeros((0, 2), np.int32)
    nga.breed(**args)


# --- import and cache behaviour -------------------------------------------------------------


def run_python(code: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_compiles_nothing_and_survives_an_unwritable_cache() -> None:
    # Every cache locator fails, as on a read-only site-packages with no writable home.
    out = run_python(
        """
        import numba.core.caching as caching

        def refuse(self):
            raise PermissionError("read-only file system")

        caching._CacheLocator.ensure_cache_path = refuse
        import chimera._numba as nb
        from chimera._numba import ga, rng
        assert nb.ga is ga and nb.rng is rng
        compiled = [
            name for mod in (ga, rng) for name, obj in vars(mod).items()
            if hasattr(obj, "signatures") and obj.signatures
        ]
        assert not compiled, compiled
        print(rng.u32(0, 0, 0, 0, 4).tolist())
        """
    )
    assert out.split() == ["[1713891541,", "3781805453,", "3159862348,", "2600524760]"]


def test_failed_cache_write_is_ignored(tmp_path: os.PathLike) -> None:
    # The cache directory is fine at import, then writing the compiled code fails.
    out = run_python(
        """
        import numba.core.caching as caching
        from chimera._numba import rng

        def refuse(self):
            raise PermissionError("read-only file system")

        caching._CacheLocator.ensure_cache_path = refuse
        print(rng.u32(0, 0, 0, 0, 1).tolist())
        """,
        env={"NUMBA_CACHE_DIR": str(tmp_path)},
    )
    assert out.strip() == "[1713891541]"


def test_starting_numba_keeps_the_cpp_thread_count() -> None:
    # Numba's omp threading layer shares OpenMP with chimera._core; starting its pool must not
    # reset the C++ backend's thread count.
    out = run_python(
        """
        from chimera import _core
        from chimera._numba import ga
        _core.ga.set_num_threads(1)
        ga.num_threads()
        print(_core.ga.num_threads())
        """
    )
    assert out.strip() == "1"

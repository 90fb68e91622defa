"""Every operator of every CPU backend held to the plain reference of its definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from chimera.evolution.operators import mutation_table, probability_threshold
from helpers import kernels

FLOAT_MUTATIONS = (0, 1, 2)
FLOAT_CROSSOVERS = (0, 1, 2, 3, 4, 5)
DTYPES = {
    "float64": (np.float64, FLOAT_CROSSOVERS, FLOAT_MUTATIONS),
    "float32": (np.float32, FLOAT_CROSSOVERS, FLOAT_MUTATIONS),
    "int32": (np.int32, (0, 1, 2, 3), (0, 4)),
    "bool": (np.bool_, (0, 1, 2, 3), (0, 3, 4)),
}


COMBOS = [
    (name, cx, mut) for name, (_, cxs, muts) in sorted(DTYPES.items()) for cx in cxs for mut in muts
]


@st.composite
def breed_case(draw, combo=None):
    dtype_name, crossover, mutation = combo or draw(st.sampled_from(COMBOS))
    dtype = DTYPES[dtype_name][0]
    n = draw(st.integers(2, 9))
    d = draw(st.integers(1, 40))
    m = draw(st.integers(1, 11))
    seed = draw(st.integers(0, 2**64 - 1))
    gen = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    if dtype_name == "bool":
        low, high = np.zeros(d), np.ones(d)
        X = rng.integers(0, 2, (n, d)).astype(bool)
    elif dtype_name == "int32":
        low = rng.integers(-50, 50, d).astype(float)
        high = low + rng.integers(1, 20, d)
        X = rng.integers(low, high + 1, (n, d)).astype(np.int32)
    else:
        low = rng.uniform(-10, 0, d)
        high = low + rng.uniform(0.1, 10, d)
        X = rng.uniform(low, high, (n, d)).astype(dtype)
    f = rng.normal(size=n)
    if draw(st.booleans()):
        f = np.round(f)  # ties
    selection = draw(st.sampled_from((0, 1, 2)))
    size = draw(st.integers(1, 4)) if selection == 0 else draw(st.integers(1, n))
    rate = draw(st.sampled_from((0.0, 1.0 / d, 0.3, 1.0)))
    use_table = draw(st.booleans())
    cdf = mutation_table(d, rate) if use_table else np.zeros(0, np.uint32)
    params = {
        "seed": seed, "generation": gen, "selection": selection, "selection_size": size,
        "crossover": crossover, "crossover_threshold": probability_threshold(draw(st.sampled_from((0.0, 0.5, 0.9, 1.0)))),
        "crossover_param": draw(st.sampled_from((0.0, 0.5, 2.0, 15.0))) if crossover in (4, 5) else 0.0,
        "mutation": mutation, "mutation_threshold": probability_threshold(rate),
        "mutation_param": draw(st.sampled_from((0.05, 0.3, 5.0, 20.0))) if mutation in (1, 2) else 0.0,
        "mutation_cdf": cdf, "bounds": draw(st.sampled_from((0, 1))),
    }  # fmt: skip
    return X, f, low, high, m, params


def run_kernel(backend: str, X, f, low, high, m, params):
    out = np.empty((m, X.shape[1]), dtype=X.dtype)
    parents = np.empty((m, 2), dtype=np.int32)
    kernels(backend).breed(X, f, low, high, out, parents, *params.values())
    return out, parents


def assert_genomes_equal(got: np.ndarray, want: np.ndarray) -> None:
    if got.dtype.kind == "f":
        rtol = 1e-12 if got.dtype == np.float64 else 1e-6
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("combo", COMBOS, ids=["-".join(map(str, c)) for c in COMBOS])
@settings(max_examples=10)
@given(data=st.data())
def test_breed_matches_reference(backend: str, combo, data) -> None:
    X, f, low, high, m, params = data.draw(breed_case(combo))
    out, parents = run_kernel(backend, X, f, low, high, m, params)
    want, want_parents = ref.breed(X, f, low, high, m, *params.values())
    np.testing.assert_array_equal(parents, want_parents)
    assert_genomes_equal(out, want)


@given(breed_case())
def test_offspring_respect_bounds(backend: str, case) -> None:
    X, f, low, high, m, params = case
    out, parents = run_kernel(backend, X, f, low, high, m, params)
    assert ((parents >= 0) & (parents < X.shape[0])).all()
    vals = out.astype(np.float64)
    # float32 rounding of a bound may step just outside it
    slack = 1e-6 * np.maximum(1.0, np.abs(high)) if X.dtype == np.float32 else 0.0
    assert (vals >= low - slack).all() and (vals <= high + slack).all()


@given(
    st.sampled_from(sorted(DTYPES)),
    st.integers(1, 12),
    st.integers(1, 30),
    st.integers(0, 2**64 - 1),
)
def test_init_matches_reference(backend: str, dtype_name: str, n: int, d: int, seed: int) -> None:
    dtype = np.dtype(DTYPES[dtype_name][0])
    rng = np.random.default_rng(seed % 1000)
    if dtype.kind == "b":
        low, high = np.zeros(d), np.ones(d)
    elif dtype.kind == "i":
        low = rng.integers(-100, 100, d).astype(float)
        high = low + rng.integers(1, 1000, d)
    else:
        low = rng.uniform(-5, 0, d)
        high = low + rng.uniform(0.5, 5, d)
    out = np.empty((n, d), dtype=dtype)
    kernels(backend).init_uniform(out, low, high, seed)
    assert_genomes_equal(out, ref.init_uniform(n, low, high, seed, dtype))


def test_selection_only_copies_parents(backend: str) -> None:
    rng = np.random.default_rng(0)
    X, f = rng.normal(size=(20, 7)), rng.normal(size=20)
    low, high = np.full(7, -10.0), np.full(7, 10.0)
    params = dict(seed=1, generation=1, selection=0, selection_size=3, crossover=0, crossover_threshold=0,
                  crossover_param=0.0, mutation=0, mutation_threshold=0, mutation_param=0.0,
                  mutation_cdf=np.zeros(0, np.uint32), bounds=0)  # fmt: skip
    out, parents = run_kernel(backend, X, f, low, high, 20, params)
    np.testing.assert_array_equal(out, X[parents[:, 0]])
    # pairs hold each other as secondary parent
    np.testing.assert_array_equal(parents[0::2, 1], parents[1::2, 0])


def test_single_point_children_are_complementary(backend: str) -> None:
    rng = np.random.default_rng(1)
    d = 16
    X, f = rng.normal(size=(30, d)), rng.normal(size=30)
    params = dict(seed=2, generation=1, selection=0, selection_size=2, crossover=1,
                  crossover_threshold=1 << 32, crossover_param=0.0, mutation=0, mutation_threshold=0,
                  mutation_param=0.0, mutation_cdf=np.zeros(0, np.uint32), bounds=0)  # fmt: skip
    out, parents = run_kernel(backend, X, f, np.full(d, -9.0), np.full(d, 9.0), 30, params)
    for i in range(0, 30, 2):
        a, b = X[parents[i, 0]], X[parents[i, 1]]
        if np.array_equal(a, b):
            continue
        from_b = out[i] == b
        cut = int(np.argmax(from_b))
        assert 1 <= cut < d and from_b[cut:].all() and (out[i][:cut] == a[:cut]).all()
        np.testing.assert_array_equal(out[i + 1], np.where(from_b, a, b))


def test_sbx_preserves_the_parents_mean(backend: str) -> None:
    rng = np.random.default_rng(2)
    d = 10
    X, f = rng.uniform(-1, 1, (40, d)), rng.normal(size=40)
    params = dict(seed=3, generation=1, selection=0, selection_size=2, crossover=5,
                  crossover_threshold=1 << 32, crossover_param=15.0, mutation=0, mutation_threshold=0,
                  mutation_param=0.0, mutation_cdf=np.zeros(0, np.uint32), bounds=0)  # fmt: skip
    # bounds far away, so no child is clipped and SBX is exactly mean-preserving
    out, parents = run_kernel(backend, X, f, np.full(d, -1e6), np.full(d, 1e6), 40, params)
    mid_children = (out[0::2] + out[1::2]) / 2
    mid_parents = (X[parents[0::2, 0]] + X[parents[0::2, 1]]) / 2
    np.testing.assert_allclose(mid_children, mid_parents, atol=1e-9)


def test_kernels_run_concurrently_from_python_threads(backend: str) -> None:
    # The kernels release the GIL; calls from several threads must not disturb each other.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    n, d = 300, 50
    X, f = rng.uniform(-1, 1, (n, d)), rng.normal(size=n)
    low, high = np.full(d, -1.0), np.full(d, 1.0)

    def job(gen: int):
        params = dict(seed=5, generation=gen, selection=0, selection_size=3, crossover=5,
                      crossover_threshold=probability_threshold(0.9), crossover_param=15.0,
                      mutation=2, mutation_threshold=probability_threshold(1 / d), mutation_param=20.0,
                      mutation_cdf=mutation_table(d, 1 / d), bounds=1)  # fmt: skip
        return run_kernel(backend, X, f, low, high, n, params)

    alone = [job(g) for g in range(8)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(job, range(8)))
    for (a, pa), (b, pb) in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(pa, pb)

"""The CUDA backend (``chimera._cuda``) against the C++ one (``chimera._core``), draw for draw.

docs/kernels.md is the contract: parents and integer/boolean genomes must be bit-identical,
float64 genomes equal to within 1e-12 (the rounding of ``log``, ``sin``, ``cos``, ``pow``) and
float32 genomes to within one unit in the last place. Every test runs the same call through both
backends; the CUDA one with NumPy arrays (copied to the GPU and back) and, when CuPy is
installed, with CuPy arrays (bred in place on the GPU).

Every test skips, one by one, where ``chimera._cuda`` was not built or no GPU is usable.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from helpers import Side

pytestmark = pytest.mark.cuda

TWO32 = 1 << 32
DTYPES = ("float64", "float32", "int32", "bool")

# Operator codes (chimera/operators.hpp).
TOURNAMENT, TRUNCATION, SUS = 0, 1, 2
NO_CROSSOVER, SINGLE_POINT, TWO_POINT, UNIFORM, BLEND, SBX = 0, 1, 2, 3, 4, 5
NO_MUTATION, GAUSSIAN, POLYNOMIAL, BIT_FLIP, RANDOM_RESET = 0, 1, 2, 3, 4
CLIP, REFLECT = 0, 1

CROSSOVER_PARAM = {BLEND: 0.5, SBX: 15.0}
MUTATION_PARAM = {GAUSSIAN: 0.3, POLYNOMIAL: 20.0}


# --------------------------------------------------------------------------------------------
# Backends and array sides


# The fixtures cuda, core, cp and side are in conftest.py.


# --------------------------------------------------------------------------------------------
# Problems


def probability_threshold(p: float) -> int:
    if not p > 0.0:
        return 0
    if p >= 1.0:
        return TWO32
    return int(p * 4294967296.0)


def mutation_table(d: int, rate: float) -> np.ndarray:
    """``floor(P(Binomial(d, rate) <= k) * 2^32)`` while below 2^32 (docs/kernels.md)."""
    table = []
    cdf = 0.0
    for k in range(d + 1):
        log_pmf = (
            math.lgamma(d + 1) - math.lgamma(k + 1) - math.lgamma(d - k + 1)
            + k * math.log(rate) + (d - k) * math.log1p(-rate)
        )  # fmt: skip
        cdf += math.exp(log_pmf)
        scaled = math.floor(cdf * 4294967296.0)
        if scaled >= TWO32:
            break
        table.append(scaled)
    assert len(table) <= 64
    return np.array(table, dtype=np.uint32)


def bounds(dtype: str, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if dtype == "bool":
        return np.zeros(d), np.ones(d)
    if dtype == "int32":
        low = rng.integers(-50, 10, d).astype(np.float64)
        high = low + rng.integers(0, 40, d)
        high[0] = low[0]  # a gene with a single value
        return low, high
    low = rng.uniform(-3.0, 1.0, d)
    high = low + rng.uniform(0.5, 5.0, d)
    high[0] = low[0]  # a gene with no range: polynomial skips it, reflect clips
    return low, high


def population(
    dtype: str, n: int, low: np.ndarray, high: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    d = low.size
    if dtype == "bool":
        return rng.random((n, d)) < 0.5
    if dtype == "int32":
        return rng.integers(low.astype(np.int64), high.astype(np.int64) + 1, (n, d)).astype(
            np.int32
        )
    X = rng.uniform(low, high, (n, d))
    X[: max(1, n // 10)] += rng.normal(0.0, 2.0, (max(1, n // 10), d))  # some outside the bounds
    return X.astype(dtype)


def fitness(n: int, rng: np.random.Generator) -> np.ndarray:
    """Minimised fitness with ties, signed zeros and a few infinities (nan_policy="worst")."""
    f = rng.normal(0.0, 1.0, n)
    f[::5] = f[1]  # ties, broken by row
    f[2 % n] = -0.0
    f[3 % n] = 0.0
    f[n // 2] = np.inf
    f[n - 1] = np.inf
    return f


# --------------------------------------------------------------------------------------------
# Running and comparing


def breed(
    kernels: ModuleType, side: Side | None, X: np.ndarray, f: np.ndarray, low: np.ndarray,
    high: np.ndarray, m: int, cfg: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    put = (lambda a: a) if side is None else side.put
    get = (lambda a: a) if side is None else side.get
    out = put(np.zeros((m, X.shape[1]), dtype=X.dtype))
    parents = put(np.full((m, 2), -1, dtype=np.int32))
    args = dict(cfg)
    args["mutation_cdf"] = put(np.asarray(cfg["mutation_cdf"], dtype=np.uint32))
    kernels.breed(put(X), put(f), put(low), put(high), out, parents, **args)
    return get(out), get(parents)


def assert_same_genomes(got: np.ndarray, want: np.ndarray, scale: float = 1.0) -> None:
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    # atol: a result near 0 after cancellation keeps the absolute error of its operands.
    atol = 1e-12 * scale
    if want.dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol)
    elif want.dtype == np.float32:
        ulp = np.spacing(np.abs(want)).astype(np.float64)
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bad = ~(diff <= np.maximum(ulp, atol))
        assert not bad.any(), (
            f"{int(bad.sum())} float32 genes differ by more than 1 ulp, e.g. "
            f"{got[bad][:5]} vs {want[bad][:5]}"
        )
    else:
        np.testing.assert_array_equal(got, want)


def check_breed(
    cuda: ModuleType, core: ModuleType, side: Side, X: np.ndarray, f: np.ndarray,
    low: np.ndarray, high: np.ndarray, m: int, cfg: dict[str, Any],
) -> None:  # fmt: skip
    want_out, want_par = breed(core.ga, None, X, f, low, high, m, cfg)
    got_out, got_par = breed(cuda.ga, side, X, f, low, high, m, cfg)
    np.testing.assert_array_equal(got_par, want_par)
    scale = float(
        max(np.abs(low).max(), np.abs(high).max(), np.abs(X.astype(np.float64)).max(), 1.0)
    )
    assert_same_genomes(got_out, want_out, scale)


def config(
    selection: int, selection_size: int, crossover: int, mutation: int, *,
    mutation_cdf: np.ndarray, mutation_rate: float, bounds_code: int = CLIP, seed: int = 2**40 + 12345,
    generation: int = 7, crossover_rate: float = 0.9,
) -> dict[str, Any]:  # fmt: skip
    return dict(
        seed=seed, generation=generation, selection=selection, selection_size=selection_size,
        crossover=crossover, crossover_threshold=probability_threshold(crossover_rate),
        crossover_param=CROSSOVER_PARAM.get(crossover, 0.0), mutation=mutation,
        mutation_threshold=probability_threshold(mutation_rate),
        mutation_param=MUTATION_PARAM.get(mutation, 0.0), mutation_cdf=mutation_cdf,
        bounds=bounds_code,
    )  # fmt: skip


def operator_cases() -> list[Any]:
    cases = []
    for dtype in DTYPES:
        real = dtype.startswith("float")
        crossovers = (NO_CROSSOVER, SINGLE_POINT, TWO_POINT, UNIFORM) + (
            (BLEND, SBX) if real else ()
        )
        mutations = (
            (NO_MUTATION, GAUSSIAN, POLYNOMIAL) if real else (NO_MUTATION, BIT_FLIP, RANDOM_RESET)
        )
        for selection in (TOURNAMENT, TRUNCATION, SUS):
            for crossover in crossovers:
                for mutation in mutations:
                    cases.append(
                        pytest.param(dtype, selection, crossover, mutation,
                                     id=f"{dtype}-sel{selection}-cx{crossover}-mut{mutation}")
                    )  # fmt: skip
    return cases


# --------------------------------------------------------------------------------------------
# Tests


def test_status_and_devices(cuda: ModuleType) -> None:
    ok, message = cuda.cuda_status()
    assert ok is True and isinstance(message, str) and message
    devices = cuda.device_info()
    assert devices, "cuda_status() is ok but device_info() lists no device"
    for dev in devices:
        assert isinstance(dev["name"], str) and dev["name"]
        major, minor = dev["compute_capability"]
        assert major >= 7 and minor >= 0
        assert dev["total_memory"] > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_init_uniform_matches_cpp(
    cuda: ModuleType, core: ModuleType, side: Side, dtype: str
) -> None:
    rng = np.random.default_rng(11)
    n, d = 1537, 13  # several blocks, an odd row count
    low, high = bounds(dtype, d, rng)
    want = np.zeros((n, d), dtype=dtype)
    core.ga.init_uniform(want, low, high, 2**33 + 5)
    got = side.put(np.zeros((n, d), dtype=dtype))
    cuda.ga.init_uniform(got, side.put(low), side.put(high), 2**33 + 5)
    got = side.get(got)
    assert_same_genomes(got, want, float(max(np.abs(low).max(), np.abs(high).max(), 1.0)))
    if dtype != "bool":
        assert (got >= low.astype(got.dtype)).all() and (got <= high.astype(got.dtype)).all()


@pytest.mark.parametrize(("dtype", "selection", "crossover", "mutation"), operator_cases())
def test_breed_matches_cpp(
    cuda: ModuleType, core: ModuleType, side: Side, dtype: str, selection: int, crossover: int,
    mutation: int,
) -> None:  # fmt: skip
    rng = np.random.default_rng([selection, crossover, mutation, DTYPES.index(dtype)])
    n, d, m = 64, 11, 63  # an odd number of children: the last pair has one
    low, high = bounds(dtype, d, rng)
    X = population(dtype, n, low, high, rng)
    f = fitness(n, rng)
    size = {TOURNAMENT: 3, TRUNCATION: n // 3, SUS: 0}[selection]
    real = dtype.startswith("float")
    for table in (True, False):
        # About 1.5 genes per child by the count table; 30% per gene by Bernoulli draws.
        rate = 1.5 / d if table else 0.3
        cdf = mutation_table(d, rate) if table else np.zeros(0, np.uint32)
        for bounds_code in (CLIP, REFLECT) if real else (CLIP,):
            cfg = config(selection, size, crossover, mutation, mutation_cdf=cdf, mutation_rate=rate,
                         bounds_code=bounds_code)  # fmt: skip
            check_breed(cuda, core, side, X, f, low, high, m, cfg)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("selection", [TOURNAMENT, TRUNCATION, SUS])
def test_breed_large_population(
    cuda: ModuleType, core: ModuleType, side: Side, dtype: str, selection: int
) -> None:
    """Many blocks, a multi-pass radix sort with heavy ties, more children than parents."""
    rng = np.random.default_rng(5)
    n, d, m = 40_000, 6, 50_001
    low, high = bounds(dtype, d, rng)
    X = population(dtype, n, low, high, rng)
    f = rng.integers(-3, 4, n).astype(np.float64)  # seven values: ties everywhere
    f[rng.random(n) < 0.1] = -0.0
    f[rng.random(n) < 0.01] = np.inf
    size = {TOURNAMENT: 2, TRUNCATION: n // 2, SUS: 0}[selection]
    real = dtype.startswith("float")
    crossover = SBX if real else UNIFORM
    mutation = POLYNOMIAL if real else RANDOM_RESET
    cfg = config(selection, size, crossover, mutation, mutation_cdf=mutation_table(d, 1.0 / d),
                 mutation_rate=1.0 / d, bounds_code=REFLECT, generation=123)  # fmt: skip
    check_breed(cuda, core, side, X, f, low, high, m, cfg)


@pytest.mark.parametrize(
    ("n", "d", "m"),
    [(2, 1, 1), (2, 1, 2), (3, 2, 1), (5, 3, 17), (17, 70, 4)],
    ids=["n2-d1-m1", "n2-d1-m2", "n3-d2-m1", "n5-d3-m17", "n17-d70-m4"],
)
def test_breed_edge_shapes(
    cuda: ModuleType, core: ModuleType, side: Side, n: int, d: int, m: int
) -> None:
    """One gene (no crossover point), one child, more children than parents, d > 64 genes."""
    rng = np.random.default_rng([n, d, m])
    low, high = bounds("float64", d, rng)
    X = population("float64", n, low, high, rng)
    f = rng.normal(size=n)
    for selection, size in ((TOURNAMENT, 4), (TRUNCATION, n), (SUS, 0)):
        for crossover in (TWO_POINT, UNIFORM, BLEND):
            cfg = config(selection, size, crossover, GAUSSIAN, mutation_cdf=np.zeros(0, np.uint32),
                         mutation_rate=0.5, bounds_code=REFLECT, crossover_rate=1.0)  # fmt: skip
            check_breed(cuda, core, side, X, f, low, high, m, cfg)


def test_breed_flat_and_infinite_fitness(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    """SUS falls back to equal weights when every weight is 0 (all equal, or all infinite)."""
    rng = np.random.default_rng(3)
    n, d = 50, 4
    low, high = bounds("float64", d, rng)
    X = population("float64", n, low, high, rng)
    for f in (np.full(n, 2.5), np.full(n, np.inf), np.where(np.arange(n) % 2 == 0, np.inf, 1.0)):
        for selection, size in ((TOURNAMENT, 5), (TRUNCATION, 7), (SUS, 0)):
            cfg = config(selection, size, SINGLE_POINT, POLYNOMIAL, mutation_cdf=mutation_table(d, 0.25),
                         mutation_rate=0.25)  # fmt: skip
            check_breed(cuda, core, side, X, f, low, high, n, cfg)


def test_breed_generations_and_seeds(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    """Each (seed, generation) is its own set of streams on both backends."""
    rng = np.random.default_rng(8)
    n, d = 40, 9
    low, high = bounds("float32", d, rng)
    X = population("float32", n, low, high, rng)
    f = fitness(n, rng)
    cdf = mutation_table(d, 1.0 / d)
    for seed in (0, 1, 2**32 - 1, 2**32, 2**64 - 1):
        for generation in (0, 1, 2**32 - 1):
            cfg = config(TOURNAMENT, 2, TWO_POINT, GAUSSIAN, mutation_cdf=cdf, mutation_rate=1.0 / d,
                         seed=seed, generation=generation)  # fmt: skip
            check_breed(cuda, core, side, X, f, low, high, n, cfg)


def test_device_path_takes_host_arguments(
    cuda: ModuleType, core: ModuleType, cp: ModuleType
) -> None:
    """CuPy genomes with NumPy bounds, table and parents, and a float32 CuPy fitness."""
    rng = np.random.default_rng(21)
    n, d, m = 100, 7, 99
    low, high = bounds("float64", d, rng)
    X = population("float64", n, low, high, rng)
    f = fitness(n, rng).astype(np.float32)
    cdf = mutation_table(d, 2.0 / d)
    cfg = config(TRUNCATION, 10, SBX, POLYNOMIAL, mutation_cdf=cdf, mutation_rate=2.0 / d)
    want_out, want_par = breed(core.ga, None, X, f.astype(np.float64), low, high, m, cfg)
    out = cp.zeros((m, d))
    parents = np.full((m, 2), -1, np.int32)
    cuda.ga.breed(cp.asarray(X), cp.asarray(f), low, high, out, parents, **cfg)
    np.testing.assert_array_equal(parents, want_par)
    assert_same_genomes(cp.asnumpy(out), want_out, float(np.abs(X).max()))


def test_device_path_keeps_data_on_the_gpu(
    cuda: ModuleType, core: ModuleType, cp: ModuleType
) -> None:
    """Breeding a CuPy population writes the CuPy output in place, generation after generation."""
    rng = np.random.default_rng(4)
    n, d = 2000, 32
    low, high = bounds("float32", d, rng)
    X_host = population("float32", n, low, high, rng)
    X = cp.asarray(X_host)
    cdf = mutation_table(d, 1.0 / d)
    for generation in range(3):
        f = cp.sum((X - cp.asarray(low, dtype=cp.float32)) ** 2, axis=1).astype(cp.float64)
        cfg = config(TOURNAMENT, 3, UNIFORM, GAUSSIAN, mutation_cdf=cdf, mutation_rate=1.0 / d,
                     generation=generation)  # fmt: skip
        out = cp.empty_like(X)
        parents = cp.empty((n, 2), dtype=cp.int32)
        cuda.ga.breed(X, f, cp.asarray(low), cp.asarray(high), out, parents, **cfg)
        want_out, want_par = breed(core.ga, None, cp.asnumpy(X), cp.asnumpy(f), low, high, n, cfg)
        np.testing.assert_array_equal(cp.asnumpy(parents), want_par)
        assert_same_genomes(cp.asnumpy(out), want_out, float(np.abs(want_out).max()))
        X = cp.asarray(want_out)  # both backends go on from the same population


def test_errors_match_cpp(cuda: ModuleType, core: ModuleType, side: Side) -> None:
    rng = np.random.default_rng(0)
    n, d = 10, 3
    low, high = bounds("int32", d, rng)
    X = population("int32", n, low, high, rng)
    f = rng.normal(size=n)
    cfg = config(
        TOURNAMENT, 2, BLEND, NO_MUTATION, mutation_cdf=np.zeros(0, np.uint32), mutation_rate=0.0
    )
    messages = []
    for kernels, s in ((core.ga, None), (cuda.ga, side)):
        with pytest.raises(ValueError) as info:
            breed(kernels, s, X, f, low, high, n, cfg)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    bad = dict(cfg, crossover=SINGLE_POINT, selection=TRUNCATION, selection_size=n + 1)
    with pytest.raises(ValueError, match="truncation must keep between 1 and n rows"):
        breed(cuda.ga, side, X, f, low, high, n, bad)
    with pytest.raises(ValueError, match="f has 9 entries along axis 0, expected 10"):
        breed(cuda.ga, side, X, f[:-1], low, high, n, dict(cfg, crossover=SINGLE_POINT))

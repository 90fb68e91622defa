"""The evolution-strategy kernels (cpp/include/chimera/es.hpp and its Numba twin): draw for
draw and gene for gene against the plain-Python definitions (reference_es), in distribution
against SciPy, and bad arguments refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chimera import _core
from chimera._errors import ValidationError
from chimera._numba import es as numba_es
from reference_bandit import ZIG_R, ZX
from reference_es import box_case, box_transform, standard_normal

BACKENDS = {"cpp": _core.es, "numba": numba_es}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 7), (40, 50), (2, 1100)])
def test_normals_follow_the_definition_draw_for_draw(backend: str, rows: int, cols: int) -> None:
    # 1100 columns cross the C++ kernel's bulk refills (512 words); 40 x 50 draws hit the wedge
    # and the tail (their further words from the row's tail stream) a few dozen times.
    out = np.empty((rows, cols))
    BACKENDS[backend].standard_normal(out, 2**40 + 17, 5, 9)
    np.testing.assert_array_equal(out, standard_normal(2**40 + 17, 5, rows, cols, 9))


@pytest.mark.skipif(not _core.bandit.AVX2, reason="this CPU has no AVX2")
@pytest.mark.parametrize("cols", [1, 3, 4, 5, 63, 64, 65, 513, 2_000])
def test_avx2_normals_match_the_baseline(cols: int) -> None:
    # Widths around the four-wide loop's tail, the 64-normal mask words and the 512-word refill.
    fast, base = np.empty((30, cols)), np.empty((30, cols))
    _core.es.standard_normal(fast, 11, 2, 9)
    _core.es.standard_normal(base, 11, 2, 9, avx2=False)
    np.testing.assert_array_equal(fast, base)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_do_not_depend_on_the_shape_or_the_threads(backend: str) -> None:
    big, small = np.empty((40_000, 1)), np.empty((7, 1))  # the big one runs in parallel
    BACKENDS[backend].standard_normal(big, 3, 1, 9)
    BACKENDS[backend].standard_normal(small, 3, 1, 9)
    np.testing.assert_array_equal(big[:7], small)
    wide = np.empty((3, 20_000))
    BACKENDS[backend].standard_normal(wide, 3, 1, 9)
    np.testing.assert_array_equal(wide[:, :1], big[:3])


def test_normals_are_standard_normal() -> None:
    out = np.empty((400, 1000))
    _core.es.standard_normal(out, 8, 0, 9)
    x = out.ravel()
    assert stats.kstest(x, "norm").pvalue > 1e-3
    # the rare paths: beyond the ziggurat's base layer, and between layers (the wedges)
    tail = np.abs(x) > ZIG_R
    assert abs(tail.mean() / (2 * stats.norm.sf(ZIG_R)) - 1) < 0.1
    assert stats.kstest(np.abs(x[tail]), stats.truncnorm(ZIG_R, np.inf).cdf).pvalue > 1e-3
    wedge = (np.abs(x) > ZX[64]) & (np.abs(x) < ZX[63])
    want = stats.norm.cdf(ZX[63]) - stats.norm.cdf(ZX[64])
    assert abs(wedge.mean() / (2 * want) - 1) < 0.1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(3))
def test_box_transform_follows_the_definition(backend: str, seed: int) -> None:
    Y, mean, sigma, low, high, al, au = box_case(seed)
    out = np.empty_like(Y)
    BACKENDS[backend].box_transform(out, Y, mean, sigma, low, high, al, au)
    np.testing.assert_array_equal(out, box_transform(Y, mean, sigma, low, high, al, au))
    assert ((low <= out) & (out <= high)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_box_transform_maps_only_the_spans_that_leave_the_box_the_same(backend: str) -> None:
    # The C++ kernel checks 64 genes at a time and maps a span only when one of its genes left
    # the identity region: rows of 150 genes (spans 64, 64, 22) with a few far steps each.
    rng = np.random.default_rng(5)
    n = 150
    low, high = np.full(n, -5.0), np.full(n, 5.0)
    al = au = np.full(n, 0.3)
    Y = rng.standard_normal((40, n)) * 0.01
    rows, cols = rng.integers(0, 40, 25), rng.integers(0, n, 25)
    Y[rows, cols] = rng.choice([-1.0, 1.0], 25) * rng.uniform(5, 50, 25)
    Y[7] = 0.0  # a row wholly inside
    Y[8, 64:128] = 30.0  # a span wholly outside
    out = np.empty_like(Y)
    mean = rng.uniform(-4, 4, n)
    BACKENDS[backend].box_transform(out, Y, mean, 1.0, low, high, al, au)
    np.testing.assert_array_equal(out, box_transform(Y, mean, 1.0, low, high, al, au))


def test_box_transform_is_the_identity_inside_and_continuous_at_the_margins() -> None:
    low, high = np.array([-1.0]), np.array([3.0])
    al, au = np.array([0.1]), np.array([0.2])
    g = np.linspace(-20, 20, 400_001)[:, None]
    out = np.empty_like(g)
    _core.es.box_transform(out, g, np.zeros(1), 1.0, low, high, al, au)
    inside = (g >= -0.9) & (g <= 2.8)
    np.testing.assert_array_equal(out[inside], g[inside])
    assert np.abs(np.diff(out[:, 0])).max() <= 1e-4 + 1e-12  # no jumps: steps are 1e-4
    assert out.min() == -1.0 and out.max() == 3.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_box_transform_refuses_bad_arguments_by_name(backend: str) -> None:
    Y, mean, sigma, low, high, al, au = box_case(0)
    kernel = BACKENDS[backend].box_transform
    with pytest.raises(ValidationError, match="Y must have the shape of out"):
        kernel(np.empty((60, 29)), Y, mean, sigma, low, high, al, au)
    with pytest.raises(ValidationError, match="one value per column"):
        kernel(np.empty_like(Y), Y, mean[:-1], sigma, low, high, al, au)
    with pytest.raises(ValidationError, match="out"):
        kernel(np.empty(Y.shape, dtype=np.float32), Y, mean, sigma, low, high, al, au)
    with pytest.raises(ValidationError, match="share memory"):
        kernel(Y, Y, mean, sigma, low, high, al, au)

"""The evolution-strategy kernels (cpp/include/chimera/es.hpp and its Numba twin): draw for
draw and gene for gene against the plain-Python definitions (reference_es), in distribution
against SciPy, the products of long rows at every SIMD width, and bad arguments refused by
name."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chimera import _core
from chimera._errors import ValidationError
from chimera._numba import es as numba_es
from reference_bandit import ZIG_R, ZX
from reference_es import add_combination, box_case, box_transform, dot_rows, standard_normal

BACKENDS = {"cpp": _core.es, "numba": numba_es}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 7), (40, 50), (2, 1100)])
def test_normals_follow_the_definition_draw_for_draw(backend: str, rows: int, cols: int) -> None:
    # 1100 columns cross the C++ kernel's bulk refills (512 words); 40 x 50 draws hit the wedge
    # and the tail (their further words from the row's tail stream) a few dozen times.
    out = np.empty((rows, cols))
    BACKENDS[backend].standard_normal(out, 2**40 + 17, 5, 9)
    np.testing.assert_array_equal(out, standard_normal(2**40 + 17, 5, rows, cols, 9))


@pytest.mark.parametrize("simd", [0, 1])
@pytest.mark.parametrize("cols", [1, 3, 4, 5, 31, 32, 33, 63, 64, 65, 129, 513, 2_000])
def test_simd_normals_match_the_baseline(simd: int, cols: int) -> None:
    # The widest this CPU has (AVX-512's Philox where there is one) against AVX2 and the
    # baseline: widths around the four- and eight-wide loops' tails (4 words a block, 8 and 32
    # blocks a call), the 64-normal mask words and the 512-word refill.
    fast, narrow = np.empty((30, cols)), np.empty((30, cols))
    _core.es.standard_normal(fast, 11, 2, 9)
    _core.es.standard_normal(narrow, 11, 2, 9, simd=simd)
    np.testing.assert_array_equal(fast, narrow)


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


# Shapes around the tiles (4 x 4, 6 rows, 4 x 1, 2 x 1), the eight lanes, the vectors of two to
# eight doubles and the column blocks (512 and 128), with an empty edge or two.
PRODUCT_SHAPES = [(1, 1, 1), (3, 5, 7), (7, 9, 100), (31, 31, 1030), (6, 4, 513), (0, 3, 9),
                  (2, 3, 0), (9, 2, 16)]  # fmt: skip


def _product_case(ra: int, rb: int, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(ra * 10_000 + rb * 100 + n)
    return rng.standard_normal((ra, n)), rng.standard_normal((rb, n)), rng.standard_normal((ra, rb))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("ra", "rb", "n"), PRODUCT_SHAPES)
def test_products_follow_the_definition(backend: str, ra: int, rb: int, n: int) -> None:
    A, B, C = _product_case(ra, rb, n)
    out = np.empty((ra, rb))
    BACKENDS[backend].dot_rows(out, A, B)
    np.testing.assert_array_equal(out, dot_rows(A, B))
    np.testing.assert_allclose(out, A @ B.T, rtol=1e-12, atol=1e-12 * max(n, 1))
    Y = np.empty((ra, n))
    BACKENDS[backend].add_combination(Y, -0.75, A, C, B)
    np.testing.assert_array_equal(Y, add_combination(-0.75, A, C, B))


@pytest.mark.parametrize("simd", [0, 1])
@pytest.mark.parametrize(("ra", "rb", "n"), PRODUCT_SHAPES)
def test_products_are_the_same_at_every_simd_width(simd: int, ra: int, rb: int, n: int) -> None:
    # The widest this CPU has (AVX-512 where there is one) against AVX2 and the baseline.
    A, B, C = _product_case(ra, rb, n)
    wide, narrow = np.empty((ra, rb)), np.empty((ra, rb))
    _core.es.dot_rows(wide, A, B)
    _core.es.dot_rows(narrow, A, B, simd=simd)
    np.testing.assert_array_equal(wide, narrow)
    wide, narrow = np.empty((ra, n)), np.empty((ra, n))
    _core.es.add_combination(wide, 1.5, A, C, B)
    _core.es.add_combination(narrow, 1.5, A, C, B, simd=simd)
    np.testing.assert_array_equal(wide, narrow)


@pytest.mark.parametrize("backend", BACKENDS)
def test_products_do_not_depend_on_the_threads(backend: str) -> None:
    # 40 x 40 pairs of 1,100 columns run in parallel (row tiles over three column blocks; row
    # blocks of the combination); one row against 14 (15,400 multiply-adds) and one row of the
    # combination in C++ run on one thread.
    A, B, C = _product_case(40, 40, 1_100)
    big, small = np.empty((40, 40)), np.empty((1, 14))
    BACKENDS[backend].dot_rows(big, A, B)
    BACKENDS[backend].dot_rows(small, A[:1], B[:14])
    np.testing.assert_array_equal(big[:1, :14], small)
    Y, y = np.empty((40, 1_100)), np.empty((1, 1_100))
    BACKENDS[backend].add_combination(Y, 0.5, A, C, B)
    BACKENDS[backend].add_combination(y, 0.5, A[:1], C[:1], B)
    np.testing.assert_array_equal(Y[:1], y)


def test_products_of_many_rows_take_passes_of_bounded_scratch() -> None:
    # 300 x 300 pairs: more than the 65,536 a pass holds, so rows of A come in several passes
    # (the scratch of 8 lanes a pair stays at 4 MB); 9 columns leave a one-column tail.
    A, B, _ = _product_case(300, 300, 9)
    out = np.empty((300, 300))
    _core.es.dot_rows(out, A, B)
    np.testing.assert_array_equal(out, dot_rows(A, B))


@pytest.mark.parametrize("backend", BACKENDS)
def test_products_refuse_bad_arguments_by_name(backend: str) -> None:
    A, B, C = _product_case(4, 3, 10)
    kernels = BACKENDS[backend]
    with pytest.raises(ValidationError, match="as many columns"):
        kernels.dot_rows(np.empty((4, 3)), A, B[:, :9])
    with pytest.raises(ValidationError, match=r"out must have shape \(rows of A, rows of B\)"):
        kernels.dot_rows(np.empty((3, 4)), A, B)
    with pytest.raises(ValidationError, match="out"):
        kernels.dot_rows(np.empty((4, 3), dtype=np.float32), A, B)
    with pytest.raises(ValidationError, match="share memory"):
        kernels.dot_rows(A.reshape(-1)[:12].reshape(4, 3), A, B)
    Y = np.empty((4, 10))
    with pytest.raises(ValidationError, match="Z must have the shape of Y"):
        kernels.add_combination(Y, 1.0, A[:, :9], C, B)
    with pytest.raises(ValidationError, match="C must have a row per row of Y"):
        kernels.add_combination(Y, 1.0, A, C[:3], B)
    with pytest.raises(ValidationError, match="M must have shape"):
        kernels.add_combination(Y, 1.0, A, C, B[:2])
    with pytest.raises(ValidationError, match="share memory"):
        kernels.add_combination(A, 1.0, A, C, B)

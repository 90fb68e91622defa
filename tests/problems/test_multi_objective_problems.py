"""ZDT and DTLZ: values at known points, true fronts on their analytic surfaces, and the images
of Pareto-optimal decision vectors landing on those fronts."""

from __future__ import annotations

import moocore
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chimera import ValidationError, problems
from chimera.problems import (
    DTLZ1,
    DTLZ2,
    DTLZ3,
    DTLZ4,
    DTLZ5,
    DTLZ6,
    DTLZ7,
    ZDT1,
    ZDT2,
    ZDT3,
    ZDT4,
    ZDT6,
    ZDT6_F1_MIN,
)

ZDTS = {"zdt1": ZDT1, "zdt2": ZDT2, "zdt3": ZDT3, "zdt4": ZDT4, "zdt6": ZDT6}
DTLZS = {
    "dtlz1": DTLZ1,
    "dtlz2": DTLZ2,
    "dtlz3": DTLZ3,
    "dtlz4": DTLZ4,
    "dtlz5": DTLZ5,
    "dtlz6": DTLZ6,
    "dtlz7": DTLZ7,
}
# where g is least: the distance variables of the Pareto-optimal set
DTLZ_OPTIMUM = {"dtlz1": 0.5, "dtlz2": 0.5, "dtlz3": 0.5, "dtlz4": 0.5, "dtlz5": 0.5}
DTLZ_OPTIMUM |= {"dtlz6": 0.0, "dtlz7": 0.0}
# published ends of the disconnected pieces (ZDT3: Deb 2001; DTLZ7: the 2-objective x1 ranges)
ZDT3_ENDS = [0.0, 0.0830015349, 0.1822287280, 0.2577623634, 0.4093136748, 0.4538821041]
ZDT3_ENDS += [0.6183967944, 0.6525117038, 0.8233317983, 0.8518328654]
DTLZ7_ENDS = [0.0, 0.2514118360, 0.6316265307, 0.8594008566]


def in_intervals(t: np.ndarray, intervals: np.ndarray, tol: float = 0.0) -> np.ndarray:
    lo, hi = intervals[:, 0] - tol, intervals[:, 1] + tol
    return ((t[..., None] >= lo) & (t[..., None] <= hi)).any(axis=-1)


def zdt_curve(name: str, f1: np.ndarray) -> np.ndarray:
    if name in ("zdt1", "zdt4"):
        return 1.0 - np.sqrt(f1)
    if name == "zdt3":
        return 1.0 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)
    return 1.0 - f1**2


def dtlz7_last(pos: np.ndarray, m: int) -> np.ndarray:
    return 2.0 * m - (pos * (1.0 + np.sin(3 * np.pi * pos))).sum(axis=1)


def on_arc(F: np.ndarray) -> np.ndarray:
    """Distance of each row of F from the DTLZ5/6 arc (cos(t) w, sin(t)), w fixed."""
    m = F.shape[1]
    # arctan2, not arcsin(F[-1]): arcsin is ill-conditioned near 1 (t near pi/2), where a
    # rounding of 1e-16 in F moves t by 1e-8.
    t = np.arctan2(F[:, -1], np.linalg.norm(F[:, :-1], axis=1))
    theta = np.full((len(F), m - 1), np.pi / 4)
    theta[:, 0] = t
    head = np.cumprod(np.column_stack([np.ones(len(F)), np.cos(theta)]), axis=1)[:, ::-1]
    tail = np.column_stack([np.ones(len(F)), np.sin(theta[:, ::-1])])
    return np.linalg.norm(F - head * tail, axis=1)


def optimal_x(name: str, m: int, dim: int, pos: np.ndarray) -> np.ndarray:
    X = np.full((len(pos), dim), DTLZ_OPTIMUM[name])
    X[:, : m - 1] = pos
    return X


# Shapes and known values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "dim", "n_obj"),
    [(name, {}, dim, 2) for name, dim in [("zdt1", 30), ("zdt2", 30), ("zdt3", 30)]]
    + [("zdt4", {}, 10, 2), ("zdt6", {}, 10, 2)]
    + [("dtlz1", {}, 7, 3), ("dtlz2", {}, 12, 3), ("dtlz7", {}, 22, 3)]
    + [
        ("dtlz1", {"n_obj": 5}, 9, 5),
        ("dtlz4", {"n_obj": 2}, 11, 2),
        ("dtlz7", {"n_obj": 4}, 23, 4),
    ],
)
def test_get_defaults_and_shapes(name: str, options: dict, dim: int, n_obj: int) -> None:
    p = problems.get(name, **options)
    assert (p.name, p.dim, p.n_obj, p.optimum, p.maximize) == (name, dim, n_obj, None, False)
    assert p.options.get("n_obj", 2) == n_obj and p.pareto_front is not None
    X = np.random.default_rng(0).uniform(p.bounds[:, 0], p.bounds[:, 1], (40, dim))
    F = p.fun(X)
    assert F.shape == (40, n_obj) and F.dtype == np.float64 and np.isfinite(F).all()
    # rows are evaluated independently; a 1-D x is one row
    np.testing.assert_allclose(p.fun(X[3]), F[3:4], rtol=1e-12)
    assert problems.get(name, dim + 3, **options).fun(np.zeros((2, dim + 3))).shape == (2, n_obj)


def test_bounds() -> None:
    b = problems.get("zdt4").bounds
    np.testing.assert_array_equal(b[0], [0, 1])
    np.testing.assert_array_equal(b[1:], np.tile([-5, 5], (9, 1)))
    for name in ("zdt1", "zdt2", "zdt3", "zdt6", *DTLZS):
        np.testing.assert_array_equal(problems.get(name, 7).bounds, np.tile([0, 1], (7, 1)))


def test_zdt_known_values() -> None:
    ones, zeros = np.ones((1, 30)), np.zeros((1, 30))
    np.testing.assert_allclose(ZDT1()(zeros), [[0, 1]])
    np.testing.assert_allclose(ZDT1()(ones), [[1, 10 * (1 - np.sqrt(0.1))]])
    np.testing.assert_allclose(ZDT2()(ones), [[1, 10 * (1 - 0.01)]])
    x = np.zeros(30)
    x[0] = 0.5
    np.testing.assert_allclose(ZDT3()(x), [[0.5, 1 - np.sqrt(0.5)]], atol=1e-15)
    x = np.zeros(10)
    x[0] = 0.25
    np.testing.assert_allclose(ZDT4()(x), [[0.25, 0.5]])  # g = 1 + 90 - 90
    x[1:] = 1.0  # x^2 - 10 cos(4 pi x) = -9 per variable: g = 1 + 90 - 81
    np.testing.assert_allclose(ZDT4()(x), [[0.25, 10 * (1 - np.sqrt(0.025))]])
    x = np.ones(10)
    x[0] = 0.0
    np.testing.assert_allclose(ZDT6()(x), [[1, 10 * (1 - 0.01)]])
    x_star = np.arctan(9 * np.pi) / (6 * np.pi)
    np.testing.assert_allclose(
        ZDT6()(np.r_[x_star, np.zeros(9)])[0], [ZDT6_F1_MIN, 1 - ZDT6_F1_MIN**2]
    )


def test_dtlz_known_values() -> None:
    half = np.full(12, 0.5)
    np.testing.assert_allclose(DTLZ1()(np.full(7, 0.5)), [[0.125, 0.125, 0.25]])
    np.testing.assert_allclose(DTLZ1()(np.r_[1.0, 1.0, np.full(5, 0.5)]), [[0.5, 0, 0]])
    # every distance variable at 0: (x - 0.5)^2 - cos(-10 pi) = -0.75 each, g = 100 * 5 * 0.25
    np.testing.assert_allclose(DTLZ1()(np.r_[0.0, 0.0, np.zeros(5)]), [[0, 0, 0.5 * 126]])
    np.testing.assert_allclose(DTLZ2()(half), [[0.5, 0.5, np.sqrt(0.5)]])
    np.testing.assert_allclose(DTLZ2()(np.r_[0.0, 0.0, np.ones(10)]), [[3.5, 0, 0]])  # g = 2.5
    np.testing.assert_allclose(DTLZ3()(np.r_[0.0, 0.0, np.zeros(10)]), [[1 + 250, 0, 0]])
    np.testing.assert_allclose(DTLZ4()(half), [[1, 0, 0]], atol=1e-29)  # 0.5^100: angles ~ 0
    np.testing.assert_allclose(DTLZ2()(np.r_[1.0, 0.3, half[2:]]), [[0, 0, 1]], atol=1e-15)
    # g = 0: the second angle is pi/4 whatever x2 is
    for x2 in (0.0, 0.9):
        np.testing.assert_allclose(DTLZ5()(np.r_[0.5, x2, half[2:]]), [[0.5, 0.5, np.sqrt(0.5)]])
    # DTLZ6 with x = 1: g = k = 10, so theta2 = pi / 44 * 21
    F = DTLZ6()(np.r_[0.0, 1.0, np.ones(10)])
    t2 = np.pi / 44 * 21
    np.testing.assert_allclose(F, [[11 * np.cos(t2), 11 * np.sin(t2), 0]], atol=1e-14)
    np.testing.assert_allclose(DTLZ7()(np.zeros(22)), [[0, 0, 6]])
    # g = 1 + 9 = 10, h = 3 - 2 (1/11)(1 + sin(3 pi)) ~ 3 - 2/11
    np.testing.assert_allclose(DTLZ7()(np.ones(22)), [[1, 1, 33 - 2]])


# True fronts ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ZDTS))
def test_zdt_front_on_its_curve(name: str) -> None:
    prob = ZDTS[name]()
    F = prob.pareto_front(500)
    assert F.shape == (500, 2)
    np.testing.assert_allclose(F[:, 1], zdt_curve(name, F[:, 0]), rtol=0, atol=1e-14)
    lo = ZDT6_F1_MIN if name == "zdt6" else 0.0
    hi = ZDT3_ENDS[-1] if name == "zdt3" else 1.0
    assert F[0, 0] == lo and F[-1, 0] == pytest.approx(hi, abs=1e-9)
    assert moocore.is_nondominated(F).all()


def test_published_constants() -> None:
    assert pytest.approx(0.2807753191, abs=1e-9) == ZDT6_F1_MIN
    np.testing.assert_allclose(ZDT3().pareto_intervals().ravel(), ZDT3_ENDS, atol=1e-9)
    np.testing.assert_allclose(DTLZ7().pareto_intervals().ravel(), DTLZ7_ENDS, atol=1e-9)


def test_zdt3_front_spans_its_five_pieces() -> None:
    F = ZDT3().pareto_front(1000)
    intervals = ZDT3().pareto_intervals()
    piece = np.searchsorted(intervals[:, 0], F[:, 0], side="right") - 1
    assert in_intervals(F[:, 0], intervals).all()
    counts = np.bincount(piece, minlength=5)
    lengths = intervals[:, 1] - intervals[:, 0]
    np.testing.assert_allclose(counts / 1000, lengths / lengths.sum(), atol=2e-3)
    # each piece reaches its right end, where the curve has a local minimum
    ends = np.array([F[piece == k, 0].max() for k in range(5)])
    np.testing.assert_allclose(ends, intervals[:, 1], atol=1e-15)
    assert len(ZDT3().pareto_front(5)) == 5


@pytest.mark.parametrize("m", [2, 3, 4, 6])
@pytest.mark.parametrize("name", list(DTLZS))
def test_dtlz_front_on_its_surface(name: str, m: int) -> None:
    prob = DTLZS[name](n_obj=m)
    F = prob.pareto_front(300)
    assert F.ndim == 2 and F.shape[1] == m and 0 < len(F) <= 300
    assert (F >= -1e-15).all() and moocore.is_nondominated(F).all()
    if name == "dtlz1":
        np.testing.assert_allclose(F.sum(axis=1), 0.5, rtol=0, atol=1e-14)
        np.testing.assert_allclose(np.sort(F.max(axis=0)), 0.5)  # reaches every corner
    elif name in ("dtlz2", "dtlz3", "dtlz4"):
        np.testing.assert_allclose(np.linalg.norm(F, axis=1), 1.0, rtol=0, atol=1e-14)
        np.testing.assert_allclose(F.max(axis=0), 1.0)
    elif name in ("dtlz5", "dtlz6"):
        assert len(F) == 300 and on_arc(F).max() < 1e-14
        np.testing.assert_allclose(np.linalg.norm(F, axis=1), 1.0, rtol=0, atol=1e-14)
        if m > 2:  # the first two objectives move together (M = 2 is DTLZ2's quarter circle)
            np.testing.assert_allclose(F[:, 0], F[:, 1])
    else:
        assert len(F) == {2: 300, 3: 17**2, 4: 6**3, 6: 3**5}[m]  # r^(M-1) <= 300 per axis
        assert in_intervals(F[:, :-1], prob.pareto_intervals()).all()
        np.testing.assert_allclose(F[:, -1], dtlz7_last(F[:, :-1], m), rtol=0, atol=1e-12)


def test_lattice_front_sizes() -> None:
    assert len(DTLZ2(n_obj=3).pareto_front(91)) == 91
    assert len(DTLZ1(n_obj=3).pareto_front(100)) == 91  # the next lattice has 105 points
    assert len(DTLZ2(n_obj=2).pareto_front(100)) == 100
    assert len(DTLZ7(n_obj=3).pareto_front(100)) == 100  # 10 per axis
    assert len(DTLZ7(n_obj=4).pareto_front(100)) == 64  # 4 per axis


# Pareto-optimal x maps onto the front -----------------------------------------------------


@pytest.mark.parametrize("name", list(ZDTS))
def test_zdt_optimal_x_lands_on_front(name: str) -> None:
    prob = ZDTS[name]()
    dim = 12
    X = np.zeros((2000, dim))
    X[:, 0] = np.random.default_rng(1).uniform(0, 1, 2000)
    F = prob(X)
    np.testing.assert_allclose(F[:, 1], zdt_curve(name, F[:, 0]), rtol=0, atol=1e-14)
    front = prob.pareto_front(20_001)
    if name == "zdt3":  # only the images that are not dominated are on the front
        F = F[moocore.is_nondominated(F)]
        assert in_intervals(F[:, 0], prob.pareto_intervals(), tol=1e-3).all()
    # front and images cover each other (mean distances well under the sample spacing)
    assert moocore.igd(front, F) < 1e-4 and moocore.igd(F, front) < 5e-3


@given(
    st.sampled_from(sorted(set(DTLZS) - {"dtlz7"})),
    st.integers(2, 6),
    st.integers(0, 2**32 - 1),
)
def test_dtlz_optimal_x_lands_on_front(name: str, m: int, seed: int) -> None:
    prob = DTLZS[name](n_obj=m)
    pos = np.random.default_rng(seed).uniform(0, 1, (50, m - 1))
    pos[0], pos[1] = 0.0, 1.0
    F = prob(optimal_x(name, m, prob.default_dim, pos))
    if name == "dtlz1":
        np.testing.assert_allclose(F.sum(axis=1), 0.5, rtol=0, atol=1e-14)
    elif name in ("dtlz5", "dtlz6"):
        assert on_arc(F).max() < 1e-12
    else:
        np.testing.assert_allclose(np.linalg.norm(F, axis=1), 1.0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", sorted(set(DTLZS) - {"dtlz7"}))
def test_dtlz_front_matches_optimal_images(name: str) -> None:
    m = 3
    prob = DTLZS[name](n_obj=m)
    pos = np.random.default_rng(2).uniform(0, 1, (4000, m - 1))
    if name == "dtlz4":
        pos = pos ** (1 / 100)  # undo the bias so that the images spread over the front
    F = prob(optimal_x(name, m, prob.default_dim, pos))
    front = prob.pareto_front(5000)
    assert moocore.igd(front, F) < 0.02 and moocore.igd(F, front) < 0.04


@pytest.mark.parametrize(("m", "spacing"), [(2, 1e-4), (3, 0.01)])
def test_dtlz7_front_equals_filtered_grid(m: int, spacing: float) -> None:
    # the front built from the intervals, against the direct route: evaluate a fine grid of
    # x_1..x_{M-1} with g = 1 (x_M = 0) and keep the non-dominated images
    prob = DTLZ7(n_obj=m)
    axis = np.linspace(0, 1, 100_001 if m == 2 else 301)
    pos = np.stack(np.meshgrid(*([axis] * (m - 1)), indexing="ij"), axis=-1).reshape(-1, m - 1)
    F = prob(optimal_x("dtlz7", m, prob.default_dim, pos))
    np.testing.assert_allclose(F[:, -1], dtlz7_last(pos, m), rtol=0, atol=1e-12)
    kept = F[moocore.is_nondominated(F)]
    step = axis[1]
    assert in_intervals(kept[:, :-1], prob.pareto_intervals(), tol=step).all()
    front = prob.pareto_front(10_000)
    # each front point is within the grid's resolution of a kept point, and each kept point
    # within the front's own spacing of a front point
    assert moocore.igd(kept, front) < 2 * step and moocore.igd(front, kept) < spacing


def test_dtlz5_curve_is_the_whole_front_only_up_to_three_objectives() -> None:
    # Huband et al. (2006): with M >= 4 some points with g > 0 escape the curve's dominance
    rng = np.random.default_rng(1)
    escaped = {}
    for m in (3, 4):
        prob = DTLZ5(n_obj=m)
        X = rng.uniform(0, 1, (20_000, prob.default_dim))
        X[:, m - 1 :] = 0.5 + rng.normal(0, 0.03, (20_000, prob.default_dim - m + 1)).clip(
            -0.5, 0.5
        )
        front = prob.pareto_front(5000)
        nd = moocore.is_nondominated(np.vstack([front, prob(X)]))
        assert nd[: len(front)].all()
        escaped[m] = int(nd[len(front) :].sum())
    assert escaped[3] == 0 and escaped[4] > 0


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "options", "match"),
    [
        (("zdt5",), {}, "unknown problem"),
        (("dtlz8",), {}, "unknown problem"),
        (("dtlz2",), {"n_obj": 1}, "n_obj"),
        (("dtlz2",), {"n_obj": 0}, "n_obj"),
        (("dtlz2",), {"n_obj": 2.5}, "n_obj"),
        (("dtlz2",), {"n_obj": True}, "n_obj"),
        (("dtlz2", 4), {"n_obj": 5}, "dim >= 5"),
        (("dtlz7", 2), {}, "dim >= 3"),
        (("zdt1", 1), {}, "dim >= 2"),
        (("zdt1", 0), {}, "dim"),
        (("zdt1", 3.0), {}, "dim"),
        (("zdt1",), {"n_obj": 2}, "n_obj"),
        (("dtlz1",), {"seed": 1}, "seed"),
        (("sphere",), {}, "needs dim"),
    ],
)
def test_get_refuses_bad_input(args: tuple, options: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        problems.get(*args, **options)


def test_evaluation_and_front_refuse_bad_input() -> None:
    with pytest.raises(ValidationError, match="X must be an"):
        ZDT1()(np.zeros((3, 1)))
    with pytest.raises(ValidationError, match="X must be an"):
        DTLZ2(n_obj=4)(np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="X must be an"):
        DTLZ2()(np.zeros((2, 3, 4)))
    with pytest.raises(ValidationError, match="n_obj"):
        DTLZ3(n_obj=1)
    for call, match in [
        (lambda: ZDT1().pareto_front(1), "n_points"),
        (lambda: ZDT3().pareto_front(4), "n_points must be an integer >= 5"),
        (lambda: DTLZ2(n_obj=5).pareto_front(4), "n_points must be an integer >= 5"),
        (lambda: DTLZ7(n_obj=4).pareto_front(7), "n_points must be an integer >= 8"),
        (lambda: DTLZ5().pareto_front(10.0), "n_points"),
    ]:
        with pytest.raises(ValidationError, match=match):
            call()


def test_single_objective_problems_unchanged() -> None:
    p = problems.get("sphere", 3)
    assert (p.n_obj, p.pareto_front, p.optimum) == (1, None, 0.0)
    assert problems.get("Leading-Ones", 5).fun is problems.leading_ones
    assert problems.single.sphere is problems.sphere

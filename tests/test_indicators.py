"""Quality indicators: hand-computed values, brute-force references, the hypervolumes of true
fronts against their analytic values, and the checks at the boundary."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chimera import ValidationError
from chimera.directions import default_partitions
from chimera.indicators import epsilon_additive, hypervolume, igd, igd_plus
from chimera.problems import DTLZ1, DTLZ2, ZDT1, ZDT2, ZDT6, ZDT6_F1_MIN

# Brute-force references -------------------------------------------------------------------


def cells_dominated(F: np.ndarray, ref: np.ndarray) -> int:
    """Hypervolume of integer points: the unit cells [c, c + 1) below ref that some f <= c."""
    cells = np.array(list(product(*(range(int(r)) for r in ref))))
    return int((F[None, :, :] <= cells[:, None, :]).all(axis=2).any(axis=1).sum())


def pairwise(F: np.ndarray, R: np.ndarray) -> np.ndarray:
    return F[None, :, :] - R[:, None, :]  # [r, f, i] = f_i - r_i


def igd_ref(F: np.ndarray, R: np.ndarray) -> float:
    return float(np.linalg.norm(pairwise(F, R), axis=2).min(axis=1).mean())


def igd_plus_ref(F: np.ndarray, R: np.ndarray) -> float:
    return float(np.linalg.norm(np.maximum(pairwise(F, R), 0), axis=2).min(axis=1).mean())


def epsilon_ref(F: np.ndarray, R: np.ndarray) -> float:
    return float(pairwise(F, R).max(axis=2).min(axis=1).max())


@st.composite
def integer_sets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 4))
    n = draw(st.integers(0, 12))
    ref = np.array(draw(st.lists(st.integers(1, 7), min_size=m, max_size=m)), dtype=float)
    F = np.array(
        draw(st.lists(st.lists(st.integers(0, 8), min_size=m, max_size=m), min_size=n, max_size=n)),
        dtype=float,
    )
    return F.reshape(n, m), ref


@st.composite
def point_sets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    F = rng.uniform(0, 1, (draw(st.integers(1, 15)), m))
    R = rng.uniform(0, 1, (draw(st.integers(1, 15)), m))
    if draw(st.booleans()):
        F = np.round(F, 1)  # ties and duplicates
    return F, R


# Hypervolume ------------------------------------------------------------------------------


def test_hypervolume_by_hand_2d() -> None:
    F = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    # staircase: (2 - 1) * (4 - 3) + (3 - 2) * (4 - 2) + (4 - 3) * (4 - 1)
    assert hypervolume(F, [4.0, 4.0]) == 6.0
    # dominated, duplicate, beyond-ref and on-the-ref-boundary points add nothing
    extra = [[2.5, 2.5], [2.0, 2.0], [5.0, 0.5], [0.5, 4.0], [4.0, 0.0]]
    assert hypervolume(np.vstack([F, extra]), np.array([4, 4])) == 6.0
    assert hypervolume([[1, 1]], [3, 2]) == 2.0  # integer input


def test_hypervolume_by_hand_3d_and_more() -> None:
    ref = [4.0, 4.0, 4.0]
    assert hypervolume([[1.0, 2.0, 3.0]], ref) == 6.0
    # boxes of 6 and 12, overlapping in [2, 4) x [2, 4) x [3, 4): 6 + 12 - 4
    assert hypervolume([[1.0, 2.0, 3.0], [2.0, 1.0, 2.0]], ref) == pytest.approx(14.0)
    assert hypervolume([[0.5] * 4], [1.0] * 4) == pytest.approx(0.0625)
    assert hypervolume([[0.5] * 5, [0.25, 0.5, 0.5, 0.5, 1.0]], [1.0] * 5) == pytest.approx(0.03125)
    assert hypervolume([[0.5], [0.2], [1.5]], [1.0]) == pytest.approx(0.8)


def test_points_that_do_not_strictly_dominate_ref_contribute_zero() -> None:
    assert hypervolume([[0.5, 1.0]], [1.0, 1.0]) == 0.0
    assert hypervolume([[2.0, 2.0], [0.0, 3.0]], [1.0, 1.0]) == 0.0
    assert hypervolume([[0.5, 0.5, 1.0], [0.2, 0.2, 0.2]], [1.0, 1.0, 1.0]) == pytest.approx(0.512)
    assert hypervolume(np.zeros((0, 3)), [1.0, 1.0, 1.0]) == 0.0


@given(integer_sets())
def test_hypervolume_matches_cell_count(case: tuple[np.ndarray, np.ndarray]) -> None:
    F, ref = case
    assert hypervolume(F, ref) == pytest.approx(cells_dominated(F, ref), abs=1e-9)


def test_zdt1_front_hypervolume() -> None:
    n = 1000
    hv = hypervolume(ZDT1().pareto_front(n), [1.0, 1.0])
    # the front dominates all of the unit square above f2 = 1 - sqrt(f1): integral of sqrt
    # is 2/3; n points on an even grid miss the steps, leaving the left Riemann sum
    h = 1.0 / (n - 1)
    assert hv == pytest.approx(h * np.sqrt(h * np.arange(n - 1)).sum(), rel=1e-12)
    assert 2 / 3 - h < hv < 2 / 3 and hv == pytest.approx(0.6666, abs=6e-4)


def test_zdt2_and_zdt6_front_hypervolumes() -> None:
    n = 1000
    f1 = np.linspace(0, 1, n)
    assert hypervolume(ZDT2().pareto_front(n), [1, 1]) == pytest.approx(
        (np.diff(f1) * f1[:-1] ** 2).sum(), rel=1e-12
    )
    f1 = np.linspace(ZDT6_F1_MIN, 1, n)
    hv = hypervolume(ZDT6().pareto_front(n), [1, 1])
    assert hv == pytest.approx((np.diff(f1) * f1[:-1] ** 2).sum(), rel=1e-12)
    exact = (1 - ZDT6_F1_MIN**3) / 3  # integral of f1^2 over [F1_MIN, 1]
    assert exact - 1 / n < hv < exact


@pytest.mark.parametrize(("m", "n"), [(2, 50), (3, 91), (3, 5000), (4, 1000)])
def test_dtlz1_front_hypervolume_exact(m: int, n: int) -> None:
    F = DTLZ1(n_obj=m).pareto_front(n)
    p = default_partitions(m, n)  # the front is the lattice of step 1 / (2p)
    # a cell of side 1/(2p) is missed exactly when its integer corner u has sum(u) < p: there
    # are C(p + M - 1, M) of them; the continuous front misses only the corner simplex
    missed = comb(p + m - 1, m) / (2 * p) ** m
    assert hypervolume(F, [1.0] * m) == pytest.approx(1 - missed, rel=1e-12)
    assert 1 - missed < 1 - 0.5**m / np.prod(np.arange(1, m + 1))


def test_dtlz2_front_hypervolume_approaches_one_minus_pi_over_six() -> None:
    # the unit cube less the ball's positive octant: 1 - pi/6 = 0.4764
    exact = 1 - np.pi / 6
    previous = 0.0
    for n in (91, 1000, 10_000):
        hv = hypervolume(DTLZ2(n_obj=3).pareto_front(n), [1.0, 1.0, 1.0])
        assert previous < hv < exact  # a finite sample dominates a strict subset
        # the gap shrinks like 0.8 / p with p partitions (12, 43 and 139 here)
        assert exact - hv < 1 / default_partitions(3, n)
        previous = hv
    assert hv == pytest.approx(0.4707, abs=1e-4)


# IGD, IGD+, epsilon -----------------------------------------------------------------------


def test_igd_family_by_hand() -> None:
    F = np.array([[0.0, 1.0], [1.0, 0.0]])
    R = np.array([[0.5, 0.5]])
    assert igd(F, R) == pytest.approx(np.sqrt(0.5))
    assert igd_plus(F, R) == pytest.approx(0.5)  # only the worse coordinate counts
    assert epsilon_additive(F, R) == pytest.approx(0.5)
    # Ishibuchi et al. (2015), example 4: A dominates B, IGD prefers B, IGD+ prefers A
    R = np.array([[10, 0], [6, 1], [2, 2], [1, 6], [0, 10]], dtype=float)
    A = np.array([[4, 2], [3, 3], [2, 4]], dtype=float)
    B = np.array([[8, 2], [4, 4], [2, 8]], dtype=float)
    assert igd(A, R) > igd(B, R) and igd_plus(A, R) < igd_plus(B, R)


@given(point_sets())
def test_igd_family_matches_brute_force(case: tuple[np.ndarray, np.ndarray]) -> None:
    F, R = case
    assert igd(F, R) == pytest.approx(igd_ref(F, R), abs=1e-12)
    assert igd_plus(F, R) == pytest.approx(igd_plus_ref(F, R), abs=1e-12)
    assert epsilon_additive(F, R) == pytest.approx(epsilon_ref(F, R), abs=1e-12)


@pytest.mark.parametrize("front", [ZDT1().pareto_front(200), DTLZ2(n_obj=3).pareto_front(200)])
def test_front_against_itself(front: np.ndarray) -> None:
    assert igd(front, front) == 0.0 and igd_plus(front, front) == 0.0
    assert epsilon_additive(front, front) == 0.0


@given(st.floats(-2.0, 2.0), st.sampled_from(["zdt1", "dtlz2"]))
def test_epsilon_of_a_shifted_front_is_the_shift(shift: float, which: str) -> None:
    front = ZDT1().pareto_front(300) if which == "zdt1" else DTLZ2(n_obj=3).pareto_front(300)
    # front points are mutually non-dominated, so the copy of r is its best cover
    assert epsilon_additive(front + shift, front) == pytest.approx(shift, abs=1e-12)
    # a worse copy is at most the shift's length away in IGD+; a better copy is not penalised
    worse = igd_plus(front + abs(shift), front)
    assert worse <= abs(shift) * np.sqrt(front.shape[1]) + 1e-12
    assert worse > 0 or abs(shift) < 1e-9
    assert igd_plus(front - abs(shift), front) == 0.0


# Validation -------------------------------------------------------------------------------

GOOD = np.array([[0.2, 0.8], [0.8, 0.2]])


@pytest.mark.parametrize(
    ("F", "ref", "match"),
    [
        ([0.2, 0.8], [1.0, 1.0], "F must be a 2-D"),
        (np.zeros((2, 2, 2)), [1.0, 1.0], "F must be a 2-D"),
        (np.zeros((3, 0)), [], "F must be a 2-D"),
        ([["a", "b"]], [1.0, 1.0], "F must hold real numbers"),
        (GOOD.astype(complex), [1.0, 1.0], "F must hold real numbers"),
        ([[0.1, 0.2], [0.3]], [1.0, 1.0], "F could not be read|F must hold real numbers"),
        ([[0.1, np.nan]], [1.0, 1.0], r"F must be finite; rows \[0\]"),
        ([[0.1, 0.2], [np.inf, 0.0]], [1.0, 1.0], r"F must be finite; rows \[1\]"),
        (GOOD, [1.0, 1.0, 1.0], r"ref must have shape \(2,\)"),
        (GOOD, 1.0, r"ref must have shape \(2,\)"),
        (GOOD, [[1.0, 1.0]], r"ref must have shape \(2,\)"),
        (GOOD, [1.0, np.inf], "ref must be finite"),
        (GOOD, ["x", 1.0], "ref must be a vector"),
    ],
)
def test_hypervolume_refuses_bad_input(F: object, ref: object, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        hypervolume(F, ref)


@pytest.mark.parametrize("indicator", [igd, igd_plus, epsilon_additive])
@pytest.mark.parametrize(
    ("F", "R", "match"),
    [
        (np.zeros((0, 2)), GOOD, "F is empty"),
        (GOOD, np.zeros((0, 2)), "reference_front is empty"),
        (GOOD, GOOD[0], "reference_front must be a 2-D"),
        (GOOD[0], GOOD, "F must be a 2-D"),
        (GOOD, np.ones((3, 3)), "same number of objectives, got 2 and 3"),
        (GOOD, [[0.5, np.nan]], "reference_front must be finite"),
        ([[np.inf, 0.0]], GOOD, "F must be finite"),
    ],
)
def test_reference_indicators_refuse_bad_input(indicator, F: object, R: object, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        indicator(F, R)

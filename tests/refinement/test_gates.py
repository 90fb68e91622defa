"""Canary gates: non-inferiority verdicts on simulated KPIs in either direction, the
undecided middle, the error rate at the margin (one look for the fixed-horizon test, a look
after every KPI for the sequential one), and bad settings refused."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError
from chimera.refinement import gates, non_inferiority, sequential_non_inferiority

MARGIN = 0.5


def kpis(seed: int, shift: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Incumbent and candidate latencies (lower is better); the candidate slower by shift."""
    rng = np.random.default_rng(seed)
    return rng.normal(10, 1, n), rng.normal(10 + shift, 1, n)


@pytest.mark.parametrize("make", [
    lambda: non_inferiority(MARGIN),
    lambda: non_inferiority(MARGIN, test="mann_whitney"),
    lambda: sequential_non_inferiority(MARGIN),
])  # fmt: skip
def test_non_inferior_is_promoted_worse_rolled_back_and_the_middle_undecided(make) -> None:
    gate = make()
    assert gate(*kpis(1, 0.0)) is True  # as good
    assert gate(*kpis(2, 0.2)) is True  # a little slower, well inside the margin
    assert gate(*kpis(3, 1.2)) is False  # slower by more than the margin
    assert gate(*kpis(4, MARGIN, n=20)) is None  # at the margin, few KPIs: cannot tell
    assert gate.last is not None and f"{MARGIN:g}" in gate.last.verdict


def test_an_undecided_look_reports_the_test_the_candidate_must_pass() -> None:
    gate = non_inferiority(MARGIN)
    assert gate(*kpis(4, MARGIN, n=20)) is None
    # lower is better: not worse means "B - margin below A", an interval open downwards
    assert gate.last is not None and gate.last.ci[0] == -np.inf and not gate.last.significant


def test_the_direction_follows_higher_is_better() -> None:
    a, b = kpis(5, 1.2)  # the candidate's KPI is higher by more than the margin
    assert non_inferiority(MARGIN)(a, b) is False
    assert non_inferiority(MARGIN, higher_is_better=True)(a, b) is True
    assert sequential_non_inferiority(MARGIN, higher_is_better=True)(a, b) is True
    assert non_inferiority(MARGIN, higher_is_better=True)(b, a) is False


def test_degenerate_kpis() -> None:
    assert non_inferiority(MARGIN)([1.0], [1.0, 2.0]) is None  # too few to test
    assert non_inferiority(0.0)([2.0, 2.0, 2.0], [2.0, 2.0]) is None  # equal, margin 0
    assert non_inferiority(MARGIN)([2.0, 2.0, 2.0], [2.2, 2.2]) is True  # exact difference
    assert non_inferiority(MARGIN)([2.0, 2.0, 2.0], [2.7, 2.7]) is False
    assert sequential_non_inferiority(MARGIN)([2.0] * 30, [2.0] * 30) is None  # no variance
    assert sequential_non_inferiority(MARGIN)(*kpis(6, 0.0, n=19)) is None  # < min_samples


def test_the_fixed_test_errs_about_alpha_at_the_margin() -> None:
    # A candidate exactly margin worse is promoted by mistake about alpha of the time (one
    # look), and one inside the margin is rarely rolled back.
    at = [non_inferiority(MARGIN)(*kpis(s, MARGIN, n=30)) for s in range(300)]
    assert 0.02 <= np.mean([v is True for v in at]) <= 0.08
    inside = [non_inferiority(MARGIN)(*kpis(s, 0.0, n=30)) for s in range(400, 600)]
    assert np.mean([v is False for v in inside]) < 0.01


def test_the_sequential_gate_stays_within_alpha_when_looked_at_after_every_kpi() -> None:
    def wrong(make) -> float:  # promotions of a candidate exactly at the margin, peeking
        bad = 0
        for seed in range(40):
            a, b = kpis(seed, MARGIN, n=300)
            gate = make()
            bad += any(gate(a[:n], b[:n]) is True for n in range(20, 301, 20))
        return bad / 40

    assert wrong(lambda: sequential_non_inferiority(MARGIN)) <= 0.05
    assert wrong(lambda: non_inferiority(MARGIN)) > 0.1  # why the sequential gate exists
    a, b = kpis(99, 0.0, n=300)  # while a candidate as good is promoted within those looks
    gate = sequential_non_inferiority(MARGIN)
    assert any(gate(a[:n], b[:n]) is True for n in range(20, 301, 20))


def test_bad_gate_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="margin"):
        non_inferiority(-1.0)
    with pytest.raises(ValidationError, match="margin"):
        sequential_non_inferiority(float("nan"))
    with pytest.raises(ValidationError, match="test must be one of welch, mann_whitney"):
        non_inferiority(MARGIN, test="bootstrap")
    with pytest.raises(ValidationError, match="alpha"):
        non_inferiority(MARGIN, alpha=1.5)
    with pytest.raises(ValidationError, match="tau"):
        sequential_non_inferiority(MARGIN, tau=0.0)
    with pytest.raises(ValidationError, match="candidate contains a non-finite"):
        non_inferiority(MARGIN)([1.0, 2.0], [1.0, np.nan])
    assert isinstance(non_inferiority(MARGIN), gates.NonInferiority)

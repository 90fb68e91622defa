"""Change-point and anomaly detectors on synthetic streams: shifts found within bounds
derived from the recorded delays, few false alarms, warm-up estimation, restarts, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError
from chimera.refinement.patterns import CUSUM, EWMA, PageHinkley, RobustZ

SHIFT_AT = 300


def shifted(seed: int, shift: float, n: int = 600, scale: float = 1.0, level: float = 0.0):
    x = level + scale * np.random.default_rng(seed).standard_normal(n)
    x[SHIFT_AT:] += shift * scale
    return x


def delay(det, x: np.ndarray) -> int | None:
    after = [i for i in det.run(x) if i >= SHIFT_AT]
    return after[0] - SHIFT_AT if after else None


DETECTORS = {
    "cusum": lambda: CUSUM(0.0, 1.0),
    "page-hinkley": lambda: PageHinkley(1.0),
    "ewma": lambda: EWMA(0.0, 1.0),
}


@pytest.mark.parametrize("name", DETECTORS)
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_shifts_are_found_quickly(name: str, direction: float) -> None:
    """2-sigma shifts, either way: recorded median delays are 2-5 observations."""
    delays = [delay(DETECTORS[name](), shifted(s, 2.0 * direction)) for s in range(60)]
    found = [d for d in delays if d is not None]
    assert len(found) >= 58
    assert np.median(found) <= 6


@pytest.mark.parametrize("name", DETECTORS)
def test_in_control_streams_raise_few_alarms(name: str) -> None:
    """ARL0 is recorded at 477-1,088 observations: 40,000 in-control observations should
    raise well under 200 alarms."""
    rng = np.random.default_rng(11)
    alarms = sum(DETECTORS[name]().run(rng.standard_normal(4000)).size for _ in range(10))
    assert alarms < 200


def test_a_cusum_without_levels_learns_them_from_the_warmup() -> None:
    x = shifted(3, 3.0, scale=5.0, level=100.0)
    det = CUSUM(warmup=50)
    alarms = det.run(x)
    assert det.std == pytest.approx(5.0, rel=0.3)
    assert alarms.size and alarms.min() >= SHIFT_AT
    # After the alarm the level is estimated again, so the new level raises no more alarms.
    assert det.mean == pytest.approx(115.0, abs=5.0)


def test_a_second_shift_raises_a_second_alarm() -> None:
    x = shifted(4, 2.0, n=900)
    x[600:] -= 4.0
    for det in (CUSUM(), PageHinkley(), EWMA()):
        alarms = det.run(x)
        assert any(300 <= a < 330 for a in alarms) and any(600 <= a < 630 for a in alarms), det


def test_robust_z_flags_spikes_and_absorbs_a_shift() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(1000)
    spikes = [200, 450, 700]
    x[spikes] += [6.0, -7.0, 8.0]
    det = RobustZ()
    flagged = set(det.run(x).tolist())
    assert set(spikes) <= flagged and len(flagged) <= len(spikes) + 5
    y = shifted(6, 4.0, n=800)
    late = [a for a in RobustZ().run(y) if a > SHIFT_AT + 100]
    assert len(late) <= 3  # the new level filled the window


def test_update_one_at_a_time_equals_run() -> None:
    x = shifted(7, 1.5)
    a, b = CUSUM(), CUSUM()
    assert [i for i, v in enumerate(x) if a.update(v)] == b.run(x).tolist()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: CUSUM(k=0), "k must be a positive number"),
        (lambda: CUSUM(std=-1), "std must be a positive number"),
        (lambda: EWMA(lam=1.5), r"lam must be in \(0, 1\]"),
        (lambda: CUSUM(warmup=1), "warmup must be an integer >= 2"),
        (lambda: RobustZ(window=3), "window must be an integer >= 5"),
        (lambda: PageHinkley(threshold=float("inf")), "threshold must be a positive number"),
    ],
)
def test_bad_parameters(make, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        make()


def test_bad_observations() -> None:
    det = CUSUM(0.0, 1.0)
    with pytest.raises(ValidationError, match="finite"):
        det.update(float("nan"))
    with pytest.raises(ValidationError, match="must be a number"):
        det.update("high")
    assert det.t == 0  # a refused observation is not counted

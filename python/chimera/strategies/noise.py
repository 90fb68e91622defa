"""Uncertainty handling for noisy objectives (UH-CMA-ES: Hansen, Niederberger, Guzzella and
Koumoutsakos 2009, "A method for handling uncertainty in evolutionary optimization ...", IEEE
TEC 13(1), section III).

Each generation a few of the samples (``2 + lam // 20``) are evaluated twice. If the second
values reorder the ranking by more than noise of a harmless size would (the rank change ``s``
against its ``theta``-limit, smoothed over generations), the noise has become large against
the differences selection sees, and the step size is raised so that the differences grow back
above it; otherwise nothing changes. A noise-free objective gives ``s < 0``.
"""

from __future__ import annotations

import numpy as np

#: theta: the rank changes tolerated (a 10th percentile of what pure noise would give).
THETA = 0.2
#: The smoothing rate of the measured rank change.
C_S = 0.3


def reevaluations(lam: int) -> int:
    """How many of ``lam`` samples are evaluated a second time."""
    return min(lam, 2 + lam // 20)


def rank_change(f_first: np.ndarray, f_again: np.ndarray) -> float:
    """The measure ``s`` of the paper's eqs. (3)-(5): ``f_first`` all ``lam`` values, ``f_again``
    the second values of the first ``len(f_again)`` samples."""
    k, lam = f_again.size, f_first.size
    both = np.concatenate([f_first, f_again])
    ranks = np.empty(both.size, dtype=np.int64)
    ranks[np.argsort(both, kind="stable")] = np.arange(1, both.size + 1)
    old, new = ranks[:k], ranks[lam:]
    moved = new - old - np.sign(new - old)  # a swap with the other value itself is no change
    others = np.arange(1, both.size)  # the rank differences pure noise could give

    def limit(rank: np.ndarray) -> np.ndarray:
        return np.percentile(np.abs(others[None, :] - rank[:, None]), THETA * 50, axis=1)

    worse_again = (f_again > f_first[:k]).astype(np.int64)
    return float(np.mean(2 * np.abs(moved) - limit(new - worse_again)
                         - limit(old - (1 - worse_again) * (f_first[:k] > f_again))))  # fmt: skip


def sigma_factor(dim: int) -> float:
    """The factor on sigma of a generation whose smoothed rank change is positive."""
    return 1 + 2 / (dim + 10)

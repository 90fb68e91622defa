"""Restart policies: what the next run of a strategy looks like when one has stopped.

- ``none``: one run; the optimizer stops with it.
- ``ipop``: each restart doubles the population, same sigma0 (Auger and Hansen 2005).
- ``bipop``: two interlaced regimes (Hansen 2009). The *large* regime is IPOP: its k-th run has
  ``lam0 2^k`` samples and sigma0. A *small* run draws ``sigma = sigma0 0.01^u1`` and
  ``lam = floor(lam0 (lam_large / (2 lam0))^(u2^2))`` (``lam_large`` the large regime's last
  population, u1 and u2 uniform in [0, 1)), and is cut at half the evaluations the large regime
  has spent. The first run counts as small (as pycma counts it), and the regime that has spent
  fewer evaluations runs next, so that neither gets more than about half the budget.

``max_restarts`` counts restarts for ``ipop`` and large-regime runs for ``bipop``. The uniform
draws come from the restart's own stream (``Stream(seed, restart, 0, RESTART)``), so a run
resumed in the middle of a restart continues bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _state_dict
from .._errors import ValidationError

POLICIES = ("none", "ipop", "bipop")


@dataclass(frozen=True)
class Run:
    """One run: its population, the factor on sigma0, its generation limit (None: the
    default) and its regime."""

    lam: int
    sigma_factor: float
    maxiter: int | None
    regime: str


class Restarts:
    """The bookkeeping of a restart policy over the runs of one optimizer."""

    def __init__(self, policy: str, max_restarts: int, lam0: int) -> None:
        self.policy, self.max_restarts, self.lam0 = policy, max_restarts, lam0
        self.restarts = 0  # runs started after the first
        self.large_runs = 0
        self.evals = {"small": 0, "large": 0}
        self.regime = "small"  # of the current run

    def first(self) -> Run:
        return Run(self.lam0, 1.0, None, "small")

    def ended(self, evals: int) -> None:
        """The current run stopped after ``evals`` evaluations."""
        self.evals[self.regime] += evals

    def next(self, u1: float, u2: float) -> Run | None:
        """The run after the one that ended (``u1``, ``u2``: the restart's uniform draws), or
        None when the policy has no restart left."""
        if self.policy == "none":
            return None
        if self.policy == "ipop":
            if self.restarts >= self.max_restarts:
                return None
            self.restarts += 1
            return Run(self.lam0 * 2**self.restarts, 1.0, None, "large")
        small, large = self.evals["small"], self.evals["large"]
        if small < max(1, large) and self.large_runs > 0:
            self.restarts += 1
            self.regime = "small"
            lam_large = self.lam0 * 2**self.large_runs
            lam = max(2, int(self.lam0 * (lam_large / (2 * self.lam0)) ** (u2**2)))
            return Run(lam, 0.01**u1, max(1, math.floor(0.5 * large / lam)), "small")
        if self.large_runs >= self.max_restarts:
            return None
        self.restarts += 1
        self.large_runs += 1
        self.regime = "large"
        return Run(self.lam0 * 2**self.large_runs, 1.0, None, "large")

    def state(self) -> dict[str, Any]:
        return {"restarts": self.restarts, "large_runs": self.large_runs,
                "small_evals": self.evals["small"], "large_evals": self.evals["large"],
                "regime": self.regime}  # fmt: skip

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        restarts, large_runs, small, large = _state_dict.counters(
            state, "restarts", "large_runs", "small_evals", "large_evals")  # fmt: skip
        regime = state.get("regime")
        if regime not in ("small", "large") or large_runs > restarts or restarts > 10**6:
            raise ValidationError("checkpoint restart bookkeeping is inconsistent")

        def apply() -> None:
            self.restarts, self.large_runs, self.regime = restarts, large_runs, regime
            self.evals = {"small": small, "large": large}

        return apply

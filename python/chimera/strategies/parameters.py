"""The strategy parameters of CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016,
table 1, with pycma's defaults where the tutorial leaves a choice): recombination weights,
learning rates, damping. Everything follows from the dimension and the population size."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np


def default_pop_size(dim: int) -> int:
    """``4 + floor(3 ln n)``: the population CMA-ES is tuned for."""
    return 4 + int(3 * math.log(dim))


@dataclass(frozen=True)
class Parameters:
    """Weights and learning rates of one run: ``weights`` (lam,) are the positive recombination
    weights of the ``mu`` best (summing to 1), then the negative ones of active CMA (zeros
    without it); ``mueff`` is the variance effective selection mass of the positive ones."""

    dim: int
    lam: int
    mu: int
    weights: np.ndarray
    mueff: float
    cc: float
    cs: float
    c1: float
    cmu: float
    damps: float
    chi_n: float
    ranked: int  # how many of the best ranks have a weight: all lam when active
    weight_sum: float  # of the ranked weights: 1 less the negative ones' magnitude
    candidates: int  # the samples ranked: lam, or the lam - lam // 2 pair winners (mirrored)

    @property
    def positive(self) -> np.ndarray:
        return self.weights[: self.mu]


def parameters(dim: int, lam: int, *, model: str = "full", active: bool = True,
               mirrored: bool = False) -> Parameters:  # fmt: skip
    """The parameters for ``dim`` genes and ``lam`` samples per generation and a ``model``:
    ``diagonal`` raises the covariance learning rates by ``(n + 2) / 3`` (Ros and Hansen 2008),
    as a diagonal matrix has n, not n^2 / 2, entries to learn; ``limited_memory`` takes
    LM-MA-ES's path rate ``2 lam / n`` (at most 1/2, for small n). ``mirrored``: pairwise
    selection ranks only the better of each pair, so weights and rates are those of the
    ``lam - lam // 2`` candidates left (Auger et al. 2011), zero for the losers; weighting all
    winners instead selects too weakly (measured on the sphere in 20-D: LM-MA-ES needed 3-4x
    the evaluations at lam 24, full CMA-ES 1.2x)."""
    if mirrored:
        kept = parameters(dim, lam - lam // 2, model=model, active=active)
        return replace(kept, lam=lam, weights=np.pad(kept.weights, (0, lam // 2)),
                       candidates=kept.lam)  # fmt: skip
    separable = model == "diagonal"
    n = float(dim)
    mu = lam // 2
    raw = math.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    pos = raw[:mu] / raw[:mu].sum()
    mueff = 1.0 / float(np.sum(pos**2))
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = min(0.5, (mueff + 2) / (n + mueff + 3))  # pycma 4's cap, reached in 1-2 dimensions
    c1 = min(1.0, lam / 6) * 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (0.25 + mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    if separable:
        c1 = min(1.0, c1 * (n + 2) / 3)
        cmu = min(1 - c1, cmu * (n + 2) / 3)
    # pycma 4's damping: the tutorial's 1 + 2 max(0, sqrt((mueff - 1) / (n + 1)) - 1) + cs with
    # the inner root scaled up to 3 (from 9 dimensions on): slower step-size change for the
    # large populations of IPOP/BIPOP restarts, where mueff exceeds n.
    inner = max(1.0, 3 * (1 - 0.5 ** (n / 9)))
    damps = 1 + 2 * max(0.0, inner * math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    weights = np.zeros(lam)
    weights[:mu] = pos
    neg = raw[mu:]
    if active and neg.size and (neg < 0).any() and cmu > 0:
        neg = np.minimum(neg, 0.0)
        mueff_neg = float(neg.sum() ** 2 / np.sum(neg**2))
        # The negative weights sum to -min(...): the tutorial's three bounds (2016, eq. 53),
        # the last keeping C positive definite whatever the negative steps are.
        scale = min(1 + c1 / cmu, 1 + 2 * mueff_neg / (mueff + 2), (1 - c1 - cmu) / (n * cmu))
        weights[mu:] = neg * scale / -neg.sum()
    if model == "limited_memory":
        cs = min(0.5, 2 * lam / n)
    chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    ranked = int(np.flatnonzero(weights)[-1]) + 1
    return Parameters(dim, lam, mu, weights, mueff, cc, cs, c1, cmu, damps, chi_n, ranked,
                      float(weights[:ranked].sum()), lam)  # fmt: skip

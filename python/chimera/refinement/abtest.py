"""A/B testing statistics for agents' KPIs: is version B better than version A?

Fixed-horizon tests return a :class:`TestResult` (the effect of B over A, its confidence
interval, the p-value, and a one-line verdict). SciPy does the distributions and the tests it
already has (Welch's t, Mann-Whitney U, the bootstrap, chi-square, Benjamini-Hochberg); this
module adds what SciPy lacks (the two-proportion z-test with its interval, CUPED, Holm) and
the always-valid sequential test, :class:`SequentialTest`, which may be looked at after every
observation without raising its false-positive rate above ``alpha``.

Degenerate data get a clear result rather than NaN: fewer than two observations per group is
``insufficient data``; two groups with no variance are compared exactly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._errors import ValidationError
from .._validate import as_seed, choice, integer, real

ALTERNATIVES = ("two-sided", "greater", "less")


@dataclass(frozen=True)
class TestResult:
    """The outcome of comparing treatment (B) with control (A).

    ``effect`` is B minus A in the test's own measure (difference of means or proportions,
    or for Mann-Whitney the probability that a B observation beats an A one, minus 1/2);
    ``ci`` its confidence interval at ``1 - alpha``; ``p_value`` None when the data cannot
    decide (``note`` says why).
    """

    __test__ = False  # not a pytest test class

    test: str
    effect: float
    ci: tuple[float, float]
    p_value: float | None
    alpha: float
    n: tuple[int, int]
    alternative: str = "two-sided"
    note: str = ""

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        """One line a person can read."""
        sizes = f"n = {self.n[0]} vs {self.n[1]}"
        if self.p_value is None:
            return f"{self.test}: inconclusive ({self.note}; {sizes})"
        lo, hi = self.ci
        if self.significant:
            word = "higher" if self.effect > 0 else "lower"
            head = f"B is {word} than A"
        else:
            head = "no significant difference between B and A"
        tail = f" ({self.note})" if self.note else ""
        return (
            f"{self.test}: {head}: effect {self.effect:+.4g}, "
            f"{100 * (1 - self.alpha):g}% CI [{lo:.4g}, {hi:.4g}], p = {self.p_value:.3g}, "
            f"{sizes}{tail}"
        )

    def __str__(self) -> str:
        return self.verdict


# --------------------------------------------------------------------------------------------
# Checks


def _sample(x: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"{name} must be a 1-D array of numbers: {exc}") from exc
    if a.ndim != 1:
        raise ValidationError(f"{name} must be 1-dimensional, got shape {a.shape}")
    if not np.isfinite(a).all():
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ValidationError(f"{name} contains a non-finite value at index {bad}: {a[bad]}")
    return a


def _alpha(alpha: float) -> float:
    return real(alpha, "alpha", 0.0, 1.0, open_low=True, open_high=True, want="in (0, 1)")


def _alternative(alternative: str) -> str:
    return choice(alternative, "alternative", ALTERNATIVES)


def _too_few(test: str, a: np.ndarray, b: np.ndarray, alpha: float, alt: str) -> TestResult:
    return TestResult(
        test, 0.0, (-math.inf, math.inf), None, alpha, (a.size, b.size), alt,
        "insufficient data: at least 2 observations per group are needed",
    )  # fmt: skip


def _interval(effect: float, se: float, crit: float, alt: str) -> tuple[float, float]:
    if alt == "greater":
        return effect - crit * se, math.inf
    if alt == "less":
        return -math.inf, effect + crit * se
    return effect - crit * se, effect + crit * se


def _exact(test: str, effect: float, n: tuple[int, int], alpha: float, alt: str) -> TestResult:
    """Two groups without variance: the difference is known exactly."""
    if effect == 0.0:
        p = 1.0
    elif alt == "two-sided":
        p = 0.0
    else:
        p = 0.0 if (effect > 0) == (alt == "greater") else 1.0
    note = "no variance in either group: the difference is exact"
    return TestResult(test, effect, (effect, effect), p, alpha, n, alt, note)


# --------------------------------------------------------------------------------------------
# Fixed-horizon tests


def welch_t(
    control: Any,
    treatment: Any,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    covariates: tuple[Any, Any] | None = None,
) -> TestResult:
    """Welch's t-test of mean(treatment) - mean(control), unequal variances.

    ``covariates=(x_control, x_treatment)``: the pre-experiment values of the same metric
    (or any covariate unaffected by the treatment); the outcomes are first adjusted by
    :func:`cuped`: the variance shrinks by the factor 1 - rho^2 (rho the outcome's correlation
    with the covariate), the interval's width by sqrt(1 - rho^2).
    """
    alpha, alt = _alpha(alpha), _alternative(alternative)
    a, b = _sample(control, "control"), _sample(treatment, "treatment")
    test = "Welch t-test"
    if covariates is not None:
        if not (isinstance(covariates, (tuple, list)) and len(covariates) == 2):
            raise ValidationError("covariates must be a pair (x_control, x_treatment), got "
                                  f"{covariates!r:.60}")  # fmt: skip
        a, b, _ = cuped(a, b, *covariates)
        test = "Welch t-test (CUPED)"
    if a.size < 2 or b.size < 2:
        return _too_few(test, a, b, alpha, alt)
    effect = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0.0:
        return _exact(test, effect, (a.size, b.size), alpha, alt)
    with warnings.catch_warnings():  # nearly equal samples: scipy warns, the test still holds
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        res = stats.ttest_ind(b, a, equal_var=False, alternative=alt)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    crit = stats.t.ppf(1 - (alpha / 2 if alt == "two-sided" else alpha), df)
    return TestResult(
        test, effect, _interval(effect, se, crit, alt), float(res.pvalue), alpha,
        (a.size, b.size), alt,
    )  # fmt: skip


def two_proportion_z(
    successes_control: int,
    n_control: int,
    successes_treatment: int,
    n_treatment: int,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> TestResult:
    """The two-proportion z-test of p_treatment - p_control (pooled standard error for the
    p-value, unpooled for the Wald interval)."""
    alpha, alt = _alpha(alpha), _alternative(alternative)
    for k, n, name in (
        (successes_control, n_control, "control"),
        (successes_treatment, n_treatment, "treatment"),
    ):
        integer(k, f"successes_{name}: {name} successes", 0)
        integer(n, f"n_{name}: {name} trials", 0)
        if not k <= n:
            raise ValidationError(f"successes_{name} must be at most n_{name} (0 <= successes <= "
                                  f"trials), got {k} of {n}")  # fmt: skip
    test, sizes = "two-proportion z-test", (int(n_control), int(n_treatment))
    if n_control < 2 or n_treatment < 2:
        empty = np.empty(int(n_control)), np.empty(int(n_treatment))
        return _too_few(test, *empty, alpha, alt)
    pa, pb = successes_control / n_control, successes_treatment / n_treatment
    effect = float(pb - pa)
    pooled = (successes_control + successes_treatment) / (n_control + n_treatment)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment))
    if se0 == 0.0:  # both all successes or all failures
        return _exact(test, effect, sizes, alpha, alt)
    z = effect / se0
    p = {
        "two-sided": 2 * stats.norm.sf(abs(z)),
        "greater": stats.norm.sf(z),
        "less": stats.norm.cdf(z),
    }[alt]
    se = math.sqrt(pa * (1 - pa) / n_control + pb * (1 - pb) / n_treatment)
    crit = stats.norm.ppf(1 - (alpha / 2 if alt == "two-sided" else alpha))
    return TestResult(test, effect, _interval(effect, se, crit, alt), float(p), alpha, sizes, alt)


def mann_whitney(
    control: Any, treatment: Any, *, alpha: float = 0.05, alternative: str = "two-sided"
) -> TestResult:
    """Mann-Whitney U: does treatment tend to exceed control? The effect is the probability
    of superiority P(B > A) + P(B = A) / 2 minus 1/2 (0: no tendency), with the
    Hanley-McNeil interval."""
    alpha, alt = _alpha(alpha), _alternative(alternative)
    a, b = _sample(control, "control"), _sample(treatment, "treatment")
    test = "Mann-Whitney U"
    if a.size < 2 or b.size < 2:
        return _too_few(test, a, b, alpha, alt)
    res = stats.mannwhitneyu(b, a, alternative=alt)
    auc = float(res.statistic) / (a.size * b.size)
    if np.ptp(np.concatenate([a, b])) == 0.0:  # every value equal: nothing to rank
        return _exact(test, 0.0, (a.size, b.size), alpha, alt)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (b.size - 1) * (q1 - auc**2) + (a.size - 1) * (q2 - auc**2)) / (
        a.size * b.size
    )
    crit = stats.norm.ppf(1 - (alpha / 2 if alt == "two-sided" else alpha))
    lo, hi = _interval(auc - 0.5, math.sqrt(max(var, 0.0)), crit, alt)
    ci = (max(lo, -0.5), min(hi, 0.5))
    return TestResult(test, auc - 0.5, ci, float(res.pvalue), alpha, (a.size, b.size), alt)


def bootstrap(
    control: Any,
    treatment: Any,
    *,
    statistic: Any = np.mean,
    alpha: float = 0.05,
    n_resamples: int = 9999,
    method: str = "BCa",
    seed: int | None = 0,
) -> TestResult:
    """Bootstrap confidence interval of statistic(treatment) - statistic(control) (SciPy's
    ``bootstrap``, BCa by default); significant when the interval excludes 0 (no p-value).
    ``statistic`` must accept an ``axis`` argument, as NumPy's reductions do."""
    alpha = _alpha(alpha)
    method = choice(method, "method", ("BCa", "percentile", "basic"))
    n_resamples = integer(n_resamples, "n_resamples", 2, 10**7)
    seed = as_seed(seed)
    if not callable(statistic):
        raise ValidationError(f"statistic must be callable, got {type(statistic).__name__}")
    a, b = _sample(control, "control"), _sample(treatment, "treatment")
    test = f"bootstrap ({method})"
    if a.size < 2 or b.size < 2:
        return _too_few(test, a, b, alpha, "two-sided")
    effect = float(statistic(b) - statistic(a))
    if np.ptp(a) == 0.0 and np.ptp(b) == 0.0:
        return _exact(test, effect, (a.size, b.size), alpha, "two-sided")

    def diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(y, axis=axis) - statistic(x, axis=axis)

    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap(
            (a, b), diff, confidence_level=1 - alpha, n_resamples=n_resamples, method=method,
            rng=np.random.default_rng(seed),
        )  # fmt: skip
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # BCa degenerates on tiny samples
        return bootstrap(
            a, b, statistic=statistic, alpha=alpha, n_resamples=n_resamples,
            method="percentile", seed=seed,
        )  # fmt: skip
    # Report the decision as a p-value stand-in: 0 outside the interval is "significant".
    p = 0.0 if not lo <= 0.0 <= hi else 1.0
    note = "no p-value: significance means the interval excludes 0"
    return TestResult(test, effect, (lo, hi), p, alpha, (a.size, b.size), "two-sided", note)


# --------------------------------------------------------------------------------------------
# Variance reduction, sample-ratio mismatch, multiple testing


def cuped(
    control: Any, treatment: Any, covariate_control: Any, covariate_treatment: Any
) -> tuple[np.ndarray, np.ndarray, float]:
    """CUPED (Deng et al. 2013): ``y - theta * (x - mean(x))`` with ``theta = cov(x, y) /
    var(x)`` on both groups pooled. Returns the adjusted control and treatment and theta; the
    means are unchanged in expectation and the variance shrinks by corr(x, y)^2."""
    a, b = _sample(control, "control"), _sample(treatment, "treatment")
    xa = _sample(covariate_control, "covariate_control")
    xb = _sample(covariate_treatment, "covariate_treatment")
    if xa.size != a.size or xb.size != b.size:
        raise ValidationError(
            f"covariates must pair with the outcomes (covariate_control, covariate_treatment): "
            f"control {a.size} vs {xa.size}, treatment {b.size} vs {xb.size}"
        )
    x, y = np.concatenate([xa, xb]), np.concatenate([a, b])
    var = x.var()
    theta = 0.0 if var == 0.0 else float(((x - x.mean()) * (y - y.mean())).mean() / var)
    mean = x.mean()
    return a - theta * (xa - mean), b - theta * (xb - mean), theta


@dataclass(frozen=True)
class SampleRatioResult:
    """Sample-ratio mismatch: were units assigned in the planned proportions?"""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    p_value: float
    alpha: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        if self.mismatch:
            return (
                f"sample ratio mismatch: counts {list(self.observed)} are unlikely under the "
                f"planned split (p = {self.p_value:.3g}); the assignment is broken, do not "
                "trust the comparison"
            )
        return f"no sample ratio mismatch (counts {list(self.observed)}, p = {self.p_value:.3g})"

    def __str__(self) -> str:
        return self.verdict


def sample_ratio_mismatch(
    counts: Any, ratios: Any = None, *, alpha: float = 0.001
) -> SampleRatioResult:
    """Chi-square goodness of fit of the group sizes to the planned ratios (equal by default);
    the conventional threshold is 0.001, since a real mismatch is a bug, not an effect."""
    alpha = _alpha(alpha)
    c = np.asarray(counts)
    if c.ndim != 1 or c.size < 2 or not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
        raise ValidationError(f"counts must be two or more non-negative integers, got {counts!r}")
    try:
        r = np.ones(c.size) if ratios is None else np.asarray(ratios, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        r = np.zeros(0)  # refused below, naming ratios
    if r.shape != c.shape or not np.isfinite(r).all() or (r <= 0).any():
        raise ValidationError(f"ratios must be {c.size} positive numbers, got {ratios!r}")
    total = int(c.sum())
    if total == 0:
        raise ValidationError("counts are all zero: no units were assigned")
    expected = r / r.sum() * total
    p = float(stats.chisquare(c, expected).pvalue)
    return SampleRatioResult(
        tuple(int(v) for v in c), tuple(float(v) for v in r / r.sum()), p, alpha
    )


def _p_values(p_values: Any) -> np.ndarray:
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        p = np.full(1, np.nan)  # refused below, naming p_values
    if p.ndim != 1 or not ((p >= 0) & (p <= 1)).all():
        raise ValidationError(
            f"p_values must be a 1-D array of numbers in [0, 1], got {p_values!r}"
        )
    return p


def holm(p_values: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down correction (family-wise error rate): (reject, adjusted p-values); a
    hypothesis is rejected when its adjusted p is at or below ``alpha``, as statsmodels'
    ``multipletests`` does."""
    p, alpha = _p_values(p_values), _alpha(alpha)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return adjusted <= alpha, adjusted


def benjamini_hochberg(p_values: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg (false discovery rate): (reject, adjusted p-values); rejected at or
    below ``alpha``, as the step-up rule p_(k) <= k alpha / m says."""
    p, alpha = _p_values(p_values), _alpha(alpha)
    if p.size == 0:
        return np.zeros(0, dtype=bool), p
    adjusted = stats.false_discovery_control(p, method="bh")
    return adjusted <= alpha, adjusted


# --------------------------------------------------------------------------------------------
# Always-valid sequential test


@dataclass
class SequentialTest:
    """The mixture sequential probability ratio test (mSPRT; Johari et al. 2017) of
    mean(treatment) - mean(control), valid however often it is looked at.

    The estimate d = mean(B) - mean(A) has variance v = s_A^2 / n_A + s_B^2 / n_B; against a
    normal mixture of effects N(0, tau^2) the likelihood ratio of "some effect" to "none" is
    ``sqrt(v / (v + tau^2)) * exp(d^2 tau^2 / (2 v (v + tau^2)))``. It is rejected, for good,
    once the ratio reaches ``1 / alpha``; the always-valid p-value is the running minimum of
    its inverse. ``tau`` is in units of the outcome's standard deviation (pooled, estimated);
    pick it near the smallest effect worth detecting. No decision before ``min_samples`` per
    group, while the variance estimate is unreliable.

    Feed observations with :meth:`update`; read :attr:`result` at any time.
    """

    alpha: float = 0.05
    tau: float = 0.5
    min_samples: int = 20
    _n: np.ndarray = field(default_factory=lambda: np.zeros(2), repr=False)
    _sum: np.ndarray = field(default_factory=lambda: np.zeros(2), repr=False)
    _sq: np.ndarray = field(default_factory=lambda: np.zeros(2), repr=False)
    _p: float = field(default=1.0, repr=False)
    _ci: tuple[float, float] = field(default=(-math.inf, math.inf), repr=False)
    _looks: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self.alpha = _alpha(self.alpha)
        self.tau = real(self.tau, "tau", 0.0, open_low=True)
        self.min_samples = integer(self.min_samples, "min_samples", 2)

    def update(self, control: Any = (), treatment: Any = ()) -> TestResult:
        """Add new observations of either group (scalars or arrays) and look at the result."""
        for g, x, name in ((0, control, "control"), (1, treatment, "treatment")):
            a = _sample(np.atleast_1d(np.asarray(x, dtype=np.float64)), name)
            self._n[g] += a.size
            self._sum[g] += a.sum()
            self._sq[g] += (a * a).sum()
        self._look()
        return self.result

    def _look(self) -> None:
        n = self._n
        if (n < self.min_samples).any():
            return
        mean = self._sum / n
        var = np.maximum(self._sq / n - mean**2, 0.0) * n / (n - 1)
        pooled_sd = math.sqrt(((n - 1) * var).sum() / (n.sum() - 2))
        v = float((var / n).sum())
        if v == 0.0 or pooled_sd == 0.0:
            return
        self._looks += 1
        tau2 = (self.tau * pooled_sd) ** 2
        d = float(mean[1] - mean[0])
        log_lr = 0.5 * math.log(v / (v + tau2)) + d * d * tau2 / (2 * v * (v + tau2))
        self._p = min(self._p, math.exp(-log_lr) if log_lr > 0 else 1.0)
        # The effects not rejected at 1/alpha, intersected over every look.
        bound = math.log(1 / self.alpha) + 0.5 * math.log((v + tau2) / v)
        half = math.sqrt(2 * v * (v + tau2) / tau2 * bound)
        lo, hi = self._ci
        self._ci = (max(lo, d - half), min(hi, d + half))

    @property
    def decided(self) -> bool:
        """True once the test has rejected "no difference" (it stays rejected)."""
        return self._p < self.alpha

    @property
    def result(self) -> TestResult:
        n = (int(self._n[0]), int(self._n[1]))
        test = "mSPRT (always valid)"
        if self._looks == 0:
            note = (
                f"continue: fewer than {self.min_samples} observations per group"
                if min(n) < self.min_samples
                else "continue: no variance yet"
            )
            return TestResult(test, 0.0, (-math.inf, math.inf), None, self.alpha, n, note=note)
        effect = float(self._sum[1] / self._n[1] - self._sum[0] / self._n[0])
        note = "stop: decided" if self.decided else "continue: not decided yet"
        return TestResult(test, effect, self._ci, self._p, self.alpha, n, note=note)

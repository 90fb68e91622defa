"""Gates for a canary: is the candidate version not worse than the incumbent, by the KPIs each
served? Pass one to ``chimera.execution.Deployment(gate=...)``.

A gate is called with the incumbent's and the candidate's KPIs and answers True (promote),
False (roll back) or None (undecided: keep collecting). Both gates here are non-inferiority
tests with a ``margin`` in the KPI's own units (absolute, not relative): being worse by less
than the margin is acceptable. With d the candidate's gain over the incumbent (mean(B) -
mean(A) when higher is better, mean(A) - mean(B) when lower is), the candidate is promoted
when the data show d > -margin, rolled back when they show d < -margin (worse by more than
the margin), and undecided in between. The two verdicts test the same boundary from either
side, so they never contradict; with ``margin=0`` promotion needs a significantly better
candidate. ``higher_is_better`` is the gate's own: set it as on the Deployment.

:func:`non_inferiority` is a fixed-horizon test, one-sided at ``alpha``: its error rates hold
for one look, but a Deployment consults its gate after every KPI from ``min_samples`` to
``max_samples``, and every look is another chance of a wrong verdict. Keep the two close (a
few looks), or use :func:`sequential_non_inferiority`, whose error rate holds however often
it is looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .._errors import ValidationError
from .._validate import boolean, choice, integer, real
from . import abtest

if TYPE_CHECKING:
    from ..execution.deploy import Gate

_TESTS = {"welch": abtest.welch_t, "mann_whitney": abtest.mann_whitney}


def _margin(margin: float) -> float:
    return real(margin, "margin (in KPI units)", 0.0)


class NonInferiority:
    """A fixed-horizon non-inferiority gate (see :func:`non_inferiority`); ``last`` holds the
    result of its latest look."""

    def __init__(self, margin: float, *, alpha: float = 0.05, test: str = "welch",
                 higher_is_better: bool = False) -> None:  # fmt: skip
        self.test = choice(test, "test", _TESTS)
        self.margin, self.alpha = _margin(margin), abtest._alpha(alpha)
        self.higher_is_better = boolean(higher_is_better, "higher_is_better")
        self.last: abtest.TestResult | None = None

    def __call__(self, incumbent: Sequence[float], candidate: Sequence[float]) -> bool | None:
        run = _TESTS[self.test]
        # Moved by the margin towards better, a candidate not worse by the margin is better.
        b = abtest._sample(candidate, "candidate")
        shifted = b + self.margin if self.higher_is_better else b - self.margin
        better, worse = ("greater", "less") if self.higher_is_better else ("less", "greater")
        moved = f"B moved {self.margin:g} towards better: a non-inferiority test"
        tried = []
        for alternative, verdict in ((better, True), (worse, False)):
            r = run(incumbent, shifted, alpha=self.alpha, alternative=alternative)
            tried.append(replace(r, note="; ".join(filter(None, (r.note, moved)))))
            if r.significant:
                self.last = tried[-1]
                return verdict
        self.last = tried[0]  # undecided: the test the candidate must pass, not yet passed
        return None


class SequentialNonInferiority:
    """An always-valid non-inferiority gate (see :func:`sequential_non_inferiority`); ``last``
    holds the result of its latest look."""

    def __init__(self, margin: float, *, alpha: float = 0.05, tau: float = 0.5,
                 min_samples: int = 20, higher_is_better: bool = False) -> None:  # fmt: skip
        self.margin = _margin(margin)
        self.higher_is_better = boolean(higher_is_better, "higher_is_better")
        self.alpha, self.tau, self.min_samples = alpha, tau, min_samples
        self._test()  # refuses bad settings now, not at a look
        self.last: abtest.TestResult | None = None

    def _test(self) -> abtest.SequentialTest:
        return abtest.SequentialTest(alpha=self.alpha, tau=self.tau, min_samples=self.min_samples)

    def __call__(self, incumbent: Sequence[float], candidate: Sequence[float]) -> bool | None:
        # The mixture likelihood ratio bounds the chance that the confidence sequence ever
        # misses the effect, so the interval from all the KPIs so far is valid at any look:
        # nothing need be carried from one call to the next.
        r = self._test().update(incumbent, candidate)
        lo, hi = r.ci  # of mean(candidate) - mean(incumbent)
        if not self.higher_is_better:
            lo, hi = -hi, -lo
        verdict = None
        if lo > -self.margin:
            verdict = True
        elif hi < -self.margin:
            verdict = False
        word = {True: "not worse", False: "worse", None: "undecided"}[verdict]
        # The test's own note is about an effect of zero; the gate's question is the margin.
        self.last = replace(r, note=f"{word} by the margin {self.margin:g}")
        return verdict


def non_inferiority(margin: float, *, alpha: float = 0.05, test: str = "welch",
                    higher_is_better: bool = False) -> NonInferiority:  # fmt: skip
    """A gate that promotes a candidate not worse than the incumbent by ``margin`` (KPI units)
    and rolls back one worse by more, each by a one-sided ``test`` at ``alpha`` ("welch":
    Welch's t on the means; "mann_whitney": Mann-Whitney U, for skewed KPIs, on a shift of
    location); None while neither is significant, and with fewer than 2 KPIs a side."""
    return NonInferiority(margin, alpha=alpha, test=test, higher_is_better=higher_is_better)


def sequential_non_inferiority(margin: float, *, alpha: float = 0.05, tau: float = 0.5,
                               min_samples: int = 20,
                               higher_is_better: bool = False) -> SequentialNonInferiority:  # fmt: skip
    """The same verdicts from the mSPRT's always-valid confidence sequence
    (:class:`~chimera.refinement.abtest.SequentialTest`, with its ``alpha``, ``tau`` and
    ``min_samples``): the chance of a wrong verdict stays within ``alpha`` however many looks
    the Deployment takes (as far as the estimated variance allows). Undecided until
    ``min_samples`` KPIs a side, and while neither side varies (the test needs a variance)."""
    return SequentialNonInferiority(margin, alpha=alpha, tau=tau, min_samples=min_samples,
                                    higher_is_better=higher_is_better)  # fmt: skip


#: The gates a spec's ``[refinement.deploy] gate`` names; "mean" is the Deployment's own
#: comparison of means.
GATES = ("welch", "mann_whitney", "sequential", "mean")


def gate(name: str, *, margin: float, alpha: float, min_samples: int,
         higher_is_better: bool) -> Gate | None:  # fmt: skip
    """The gate called ``name`` (None for "mean": the Deployment's default). Every setting is
    checked, those this gate does not use too."""
    choice(name, "gate name", GATES)
    _margin(margin)
    abtest._alpha(alpha)
    integer(min_samples, "min_samples", 2)
    boolean(higher_is_better, "higher_is_better")
    if name == "mean":
        return None
    if name == "sequential":
        return sequential_non_inferiority(margin, alpha=alpha, min_samples=min_samples,
                                          higher_is_better=higher_is_better)  # fmt: skip
    if name not in _TESTS:
        raise ValidationError(f"unknown gate {name!r}; choose one of {', '.join(GATES)}")
    return non_inferiority(margin, alpha=alpha, test=name, higher_is_better=higher_is_better)

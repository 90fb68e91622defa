"""Refinement: turning agents' KPIs into decisions.

- :mod:`~chimera.refinement.bandits`: which variant gets the next request (epsilon-greedy,
  UCB1, Thompson sampling, softmax, EXP3; native select / update);
- :mod:`~chimera.refinement.abtest`: is a new version better (fixed-horizon tests, CUPED,
  sample-ratio mismatch, multiple-testing corrections, an always-valid sequential test);
- :mod:`~chimera.refinement.gates`: may a canary replace the version in service
  (non-inferiority gates for ``chimera.execution.Deployment``, fixed-horizon or sequential);
- :mod:`~chimera.refinement.patterns`: has a KPI shifted (CUSUM, Page-Hinkley), is a value
  anomalous (EWMA chart, robust z-score);
- :mod:`~chimera.refinement.bo`: which parameters to try next (Gaussian-process Bayesian
  optimisation over mixed spaces, ask/tell);
- :class:`~chimera.refinement.Tuner`: tunes an agent's parameters from its KPIs.
"""

from __future__ import annotations

from . import abtest, bandits, bo, gates, patterns
from .bo import BayesianOptimizer, Categorical, Integer, Real
from .gates import non_inferiority, sequential_non_inferiority
from .tuner import Tuner

__all__ = [
    "BayesianOptimizer",
    "Categorical",
    "Integer",
    "Real",
    "Tuner",
    "abtest",
    "bandits",
    "bo",
    "gates",
    "non_inferiority",
    "patterns",
    "sequential_non_inferiority",
]

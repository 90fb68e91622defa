"""Layer 5, refinement: turning agents' KPIs into decisions.

- :mod:`~chimera.refinement.abtest`: is a new version better (fixed-horizon tests, CUPED,
  sample-ratio mismatch, multiple-testing corrections, an always-valid sequential test);
- :mod:`~chimera.refinement.patterns`: has a KPI shifted (CUSUM, Page-Hinkley), is a value
  anomalous (EWMA chart, robust z-score).
"""

from __future__ import annotations

from . import abtest, patterns

__all__ = ["abtest", "patterns"]

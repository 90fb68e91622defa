"""Automatic tuning of an agent's parameters from its KPIs: the loop execution feeds.

``Tuner.suggest()`` -> parameters; the agent runs with them; ``Tuner.observe(parameters,
kpis)`` with the KPIs it produced. Discrete parameters (lists of choices) are chosen by a
Gaussian Thompson-sampling bandit over their combinations; continuous ones (:class:`Real`,
:class:`Integer`) by Bayesian optimisation. The bandit sees the objective standardised by the
running mean and standard deviation of every value observed so far, so that it works on any
KPI's scale; the Bayesian optimiser sees the raw values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import kpi as kpi_records
from .._errors import ValidationError
from .._validate import as_seed, boolean
from .bandits import ThompsonSampling
from .bo import BayesianOptimizer, Integer, Real

MAX_COMBINATIONS = 10_000


class Tuner:
    """Tunes parameters to maximise (or minimise) one KPI metric.

    Parameters
    ----------
    space : mapping of name -> list of choices | Real | Integer
    objective : str
        The metric to optimise (a key of the KPIs given to :meth:`observe`).
    maximize : bool
        True (the default) for metrics like conversion or throughput, False for latency.
    seed : int, optional
    """

    def __init__(
        self,
        space: Mapping[str, Any],
        *,
        objective: str,
        maximize: bool = True,
        seed: int | None = None,
    ) -> None:
        if not isinstance(space, Mapping) or not space:
            raise ValidationError("space must be a non-empty mapping of name -> choices")
        if not isinstance(objective, str) or not objective:
            raise ValidationError(f"objective must be a metric name, got {objective!r}")
        self.discrete: dict[str, tuple[Any, ...]] = {}
        continuous: dict[str, Real | Integer] = {}
        for name, dim in space.items():
            if isinstance(dim, (Real, Integer)):
                continuous[name] = dim
            elif isinstance(dim, (list, tuple)) and len(dim) >= 1:
                self.discrete[name] = tuple(dim)
            else:
                raise ValidationError(
                    f"space[{name!r}] must be a list of choices, Real or Integer, got {dim!r}"
                )
        self.objective, self.maximize = objective, boolean(maximize, "maximize")
        combinations = math.prod(len(c) for c in self.discrete.values())
        if combinations > MAX_COMBINATIONS:  # counted before any is made
            raise ValidationError(
                f"space has {combinations} combinations of discrete choices (at most "
                f"{MAX_COMBINATIONS}); make some parameters Integer or Real"
            )
        self._combos = list(itertools.product(*self.discrete.values()))
        rng = np.random.default_rng(None if seed is None else as_seed(seed))
        self._bandit = ThompsonSampling(
            len(self._combos), likelihood="gaussian", seed=int(rng.integers(2**63))
        )
        self._bo = (
            BayesianOptimizer(continuous, maximize=self.maximize, seed=int(rng.integers(2**63)))
            if continuous
            else None
        )
        self._n, self._mean, self._m2 = 0, 0.0, 0.0  # the objective's running moments
        self.history: list[tuple[dict[str, Any], float]] = []

    def suggest(self) -> dict[str, Any]:
        """The parameters to run next."""
        params = dict(zip(self.discrete, self._combos[self._bandit.select()], strict=True))
        if self._bo is not None:
            params.update(self._bo.ask())
        return params

    def observe(self, parameters: Mapping[str, Any], kpis: Any) -> float:
        """The KPIs a run with ``parameters`` produced: a mapping of metric -> value, or a KPI
        table (:mod:`chimera.kpi`) whose ``objective`` rows are averaged. Returns
        the objective's value."""
        value = self._objective_value(kpis)
        if not isinstance(parameters, Mapping):
            raise ValidationError(f"parameters must be a mapping, got {type(parameters).__name__}")
        combo = tuple(parameters.get(name) for name in self.discrete)
        try:
            arm = self._combos.index(combo)
        except ValueError:
            raise ValidationError(
                f"parameters {dict(parameters)!r} are not a combination of the choices "
                f"{self.discrete!r}"
            ) from None
        continuous = {k: v for k, v in parameters.items() if k not in self.discrete}
        if self._bo is not None:
            self._bo.tell(continuous, value)  # checks names and bounds before anything is kept
        elif continuous:
            raise ValidationError(f"unknown parameters {sorted(continuous)}")
        self._n += 1
        delta = value - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (value - self._mean)
        sd = math.sqrt(self._m2 / (self._n - 1)) if self._n > 1 and self._m2 > 0 else 1.0
        z = (value - self._mean) / sd
        self._bandit.update(arm, z if self.maximize else -z)
        self.history.append((dict(parameters), value))
        return value

    @property
    def best(self) -> tuple[dict[str, Any], float]:
        """The best parameters observed so far and their objective value."""
        if not self.history:
            raise ValidationError("nothing has been observed yet")
        pick = max if self.maximize else min
        return pick(self.history, key=lambda h: h[1])

    def _objective_value(self, kpis: Any) -> float:
        if isinstance(kpis, pa.Table):
            table = kpi_records.from_table(kpis, "KPIs")
            rows = table.filter(pc.equal(table.column("metric"), self.objective))
            if rows.num_rows == 0:
                raise ValidationError(f"the KPI table has no '{self.objective}' records")
            value = pc.mean(rows.column("value")).as_py()
        elif isinstance(kpis, Mapping):
            if self.objective not in kpis:
                raise ValidationError(
                    f"the KPIs lack the objective '{self.objective}' (they have {sorted(kpis)})"
                )
            value = kpis[self.objective]
        else:
            raise ValidationError("kpis must be a mapping of metric -> value or a KPI table")
        try:
            value = float(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"KPI '{self.objective}' must be a number, got {value!r}"
            ) from exc
        if not math.isfinite(value):
            raise ValidationError(f"KPI '{self.objective}' must be finite, got {value}")
        return value

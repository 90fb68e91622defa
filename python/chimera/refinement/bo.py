"""Bayesian optimisation of an agent's parameters, ask/tell like the evolutionary
algorithms.

A Gaussian process (:mod:`.surrogate`: scikit-learn's, Matern 5/2 with one length scale per
dimension under a log-normal prior, a noise term, standardised targets) models the objective
over the unit cube; expected improvement (maximised as its logarithm) or a lower confidence
bound chooses where to evaluate next. Mixed spaces are encoded into the cube (:class:`Real`
linearly or on a log scale, :class:`Integer` as a relaxed real rounded on the way out,
:class:`Categorical` one-hot, read back by its largest coordinate). The acquisition is
maximised over random candidates, some of them near the best points so far, the best few and
the incumbent polished by L-BFGS-B on the model's analytic gradient.
Several points at once (``ask(n)``) come from the constant liar: each chosen point is added to
the model with the best value seen as its pretend outcome, which pushes the next away from it.

Minimisation; ``maximize=True`` flips the sense.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy.stats import qmc

from .._errors import ArgumentTypeError, StateError, ValidationError
from .._validate import MAX_COUNT, as_seed, boolean, choice, integer, iterable, real
from . import surrogate

ACQUISITIONS = ("ei", "lcb")
#: The largest batch one ask() proposes from one model: each proposal after the first is a
#: constant liar's refit and search, and past a few hundred the lies outweigh the data (ask
#: in rounds, telling between them).
MAX_BATCH = 256
_MAX_POINTS = 1 << 24  # candidates, design points or polish starts: past this, memory runs out


@dataclass(frozen=True)
class Real:
    """A real parameter in [low, high], searched on a log scale when ``log``."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        low, high = real(self.low, "low"), real(self.high, "high")
        boolean(self.log, "log")
        if not low < high:
            raise ValidationError(f"Real needs low < high, got low={low}, high={high}")
        if self.log and self.low <= 0:
            raise ValidationError(f"a log-scale Real needs low > 0, got {self.low}")

    @property
    def width(self) -> int:
        return 1

    def encode(self, v: Any) -> list[float]:
        x = real(v, "a Real parameter's value")
        if not self.low <= x <= self.high:
            raise ValidationError(f"{x} is outside [{self.low}, {self.high}]")
        if self.log:
            return [math.log(x / self.low) / math.log(self.high / self.low)]
        return [(x - self.low) / (self.high - self.low)]

    def decode(self, u: np.ndarray) -> float:
        t = float(np.clip(u[0], 0.0, 1.0))
        if self.log:
            return float(self.low * (self.high / self.low) ** t)
        return float(self.low + t * (self.high - self.low))


@dataclass(frozen=True)
class Integer:
    """An integer parameter in [low, high] (both included)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            v = getattr(self, name)
            whole = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
            if not whole or abs(v) > MAX_COUNT:
                raise ValidationError(f"Integer needs integers low < high: {name} must be an "
                                      f"integer of at most 2**62 in size, got {v!r}")  # fmt: skip
        low, high = int(self.low), int(self.high)
        if not low < high:
            raise ValidationError(f"Integer needs low < high, got low={low}, high={high}")

    @property
    def width(self) -> int:
        return 1

    def encode(self, v: Any) -> list[float]:
        whole = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)) and math.isfinite(v) and float(v).is_integer()  # fmt: skip
        if not whole or not self.low <= v <= self.high:
            raise ValidationError(f"{v!r} is not an integer in [{self.low}, {self.high}]")
        # Each integer owns an equal slice of [0, 1]; its centre represents it.
        return [(int(v) - self.low + 0.5) / (self.high - self.low + 1)]

    def decode(self, u: np.ndarray) -> int:
        k = int(np.floor(float(np.clip(u[0], 0.0, 1.0)) * (self.high - self.low + 1)))
        return self.low + min(k, self.high - self.low)


@dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (any hashable values), encoded one-hot."""

    choices: tuple[Any, ...]

    def __init__(self, choices: Sequence[Any]) -> None:
        object.__setattr__(self, "choices", tuple(iterable(choices, "choices", "values")))
        try:
            distinct = len(set(self.choices)) == len(self.choices)
        except TypeError as exc:  # unhashable
            raise ArgumentTypeError(f"choices must be hashable values: {exc}") from exc
        if len(self.choices) < 2 or not distinct:
            raise ValidationError(
                f"Categorical needs two or more distinct choices, got {choices!r}"
            )

    @property
    def width(self) -> int:
        return len(self.choices)

    def encode(self, v: Any) -> list[float]:
        if v not in self.choices:
            raise ValidationError(f"{v!r} is not one of {list(self.choices)}")
        return [1.0 if c == v else 0.0 for c in self.choices]

    def decode(self, u: np.ndarray) -> Any:
        return self.choices[int(np.argmax(u))]


Dimension = Real | Integer | Categorical


class BayesianOptimizer:
    """Gaussian-process Bayesian optimisation over a mixed space, ask/tell.

    Parameters
    ----------
    space : mapping of name -> Real | Integer | Categorical
    acquisition : {"ei", "lcb"}
        Expected improvement (by at least ``xi`` times the best value's size; 0 by default:
        a margin keeps EI from refining a good point) or the lower confidence bound
        ``mean - kappa * sd``.
    n_initial : int, optional
        Points of the initial scrambled-Sobol design before the model is used (default
        ``max(5, 2 * encoded dimension)``).
    n_candidates, n_polish : int
        Random candidates per proposal (and a quarter as many near the best points told), and
        how many start the gradient polish (the best candidates, and the incumbent).
    seed : int, optional
        Seeds the design, the candidates and the model's restarts: a seeded run repeats.
    maximize : bool
        Maximise instead of minimise.
    """

    def __init__(
        self,
        space: Mapping[str, Dimension],
        *,
        acquisition: str = "ei",
        n_initial: int | None = None,
        xi: float = 0.0,
        kappa: float = 2.0,
        n_candidates: int = 2048,
        n_polish: int = 10,
        seed: int | None = None,
        maximize: bool = False,
    ) -> None:
        if not isinstance(space, Mapping) or not space:
            raise ValidationError("space must be a non-empty mapping of name -> dimension")
        for name, dim in space.items():
            if not isinstance(dim, (Real, Integer, Categorical)):
                raise ValidationError(
                    f"space[{name!r}] must be Real, Integer or Categorical, got {dim!r}"
                )
        self.acquisition = choice(acquisition, "acquisition", ACQUISITIONS)
        self.space = dict(space)
        self.dim = sum(d.width for d in self.space.values())
        self.n_initial = (max(5, 2 * self.dim) if n_initial is None
                          else integer(n_initial, "n_initial", 1, _MAX_POINTS))  # fmt: skip
        self.xi, self.kappa = real(xi, "xi", 0.0), real(kappa, "kappa", 0.0)
        self.n_candidates = integer(n_candidates, "n_candidates", 1, _MAX_POINTS)
        self.n_polish = integer(n_polish, "n_polish", 0, _MAX_POINTS)
        self.maximize = boolean(maximize, "maximize")
        self.seed = None if seed is None else as_seed(seed)
        self._rng = np.random.default_rng(self.seed)
        self._design = qmc.Sobol(self.dim, scramble=True, rng=self._rng)
        self._X: list[np.ndarray] = []  # encoded, told
        self._y: list[float] = []  # minimised sense
        self._pending: list[dict[str, Any]] | None = None
        self._kernel: Any = None  # the last fitted kernel: the next fit starts from it
        self._fits = 0

    # --- encoding -----------------------------------------------------------------------------

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        if not isinstance(params, Mapping):
            raise ArgumentTypeError(
                f"params must be a mapping of name -> value, got {params!r:.60}"
            )
        missing = set(self.space) - set(params)
        extra = set(params) - set(self.space)
        if missing or extra:
            raise ValidationError(
                f"params must name exactly {sorted(self.space)}; missing {sorted(missing)}, "
                f"unknown {sorted(extra)}"
            )
        out: list[float] = []
        for name, dim in self.space.items():
            out += dim.encode(params[name])
        return np.array(out)

    def decode(self, u: np.ndarray) -> dict[str, Any]:
        try:
            u = np.asarray(u, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(
                f"u must be an encoded point of {self.dim} numbers: {exc}"
            ) from exc
        if u.shape != (self.dim,) or not np.isfinite(u).all():
            raise ValidationError(
                f"u must be an encoded point: {self.dim} finite numbers, got shape {u.shape}"
            )
        params, k = {}, 0
        for name, dim in self.space.items():
            params[name] = dim.decode(u[k : k + dim.width])
            k += dim.width
        return params

    def _canonical(self, u: np.ndarray) -> np.ndarray:
        """The encoding of the point u decodes to (rounded integers, one-hot categories)."""
        return self.encode(self.decode(u))

    # --- ask / tell ---------------------------------------------------------------------------

    def ask(self, n: int | None = None) -> Any:
        """The next parameters to evaluate: one dict, or a list of ``n`` dicts (a batch of at
        most :data:`MAX_BATCH`)."""
        k = 1 if n is None else integer(n, "n", 1, MAX_BATCH)
        if self._pending is None or len(self._pending) != k:
            self._pending = self._propose(k)
        return self._pending[0] if n is None else list(self._pending)

    def tell(self, params: Any, values: Any) -> None:
        """Outcomes of evaluated parameters: one dict and one number, or lists of each (any
        parameters in the space, not only asked ones)."""
        batch = isinstance(params, Sequence) and not isinstance(params, (Mapping, str))
        plist = list(params) if batch else [params]
        try:
            v = np.atleast_1d(np.asarray(values, dtype=np.float64))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"values must be numbers: {exc}") from exc
        if v.ndim != 1 or v.size != len(plist):
            raise ValidationError(
                f"values must hold one number per set of params: {len(plist)} sets, "
                f"values of shape {np.shape(values)}"
            )
        if not np.isfinite(v).all():
            raise ValidationError(f"values must be finite, got {v.tolist()}")
        encoded = [self.encode(p) for p in plist]  # every check before anything is stored
        self._X += encoded
        self._y += (-v if self.maximize else v).tolist()
        self._pending = None

    @property
    def n_told(self) -> int:
        return len(self._y)

    @property
    def best(self) -> tuple[dict[str, Any], float]:
        """The best parameters told so far and their value."""
        if not self._y:
            raise StateError("nothing has been told yet")
        i = int(np.argmin(self._y))
        value = -self._y[i] if self.maximize else self._y[i]
        return self.decode(self._X[i]), float(value)

    # --- the model ----------------------------------------------------------------------------

    def _propose(self, k: int) -> list[dict[str, Any]]:
        if self.n_told < self.n_initial:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Sobol prefers powers of two; any count is fine
                return [self.decode(u) for u in self._design.random(k)]
        X, y = np.array(self._X), np.array(self._y)
        magnitude = float(np.abs(y).max()) or 1.0  # values near float's limit overflow std()
        unit = y / magnitude
        spread = float(unit.std()) or 1.0
        z = (unit - unit.mean()) / spread
        model = self._fit(X, z)
        chosen: list[np.ndarray] = []
        for _ in range(k):
            best = (
                float(z.min()) - self.xi * max(abs(float(unit.min())), 1e-12 / magnitude) / spread
            )
            u = self._maximise_acquisition(model, best, X, z)
            chosen.append(u)
            if len(chosen) < k:  # constant liar: pretend u came out at the best value
                X, z = np.vstack([X, u]), np.append(z, z.min())
                model = surrogate.fit(X, z, start=model.kernel, fixed=True)
        return [self.decode(u) for u in chosen]

    def _fit(self, X: np.ndarray, z: np.ndarray) -> surrogate.Posterior:
        """The GP, its hyperparameters warm-started from the last fit's, with a random restart
        every fifth fit."""
        restarts = 1 if self._kernel is None or self._fits % 5 == 0 else 0
        self._fits += 1
        model = surrogate.fit(
            X, z, start=self._kernel, restarts=restarts, seed=int(self._rng.integers(2**31))
        )
        self._kernel = model.kernel
        return model

    def _acquisition(
        self, model: surrogate.Posterior, U: np.ndarray, best: float, grad: bool = False
    ) -> tuple[np.ndarray, ...]:
        """The acquisition to maximise at the rows of U (and its gradient)."""
        if self.acquisition == "lcb":
            return surrogate.lower_confidence_bound(model, U, self.kappa, grad)
        return surrogate.log_expected_improvement(model, U, best, grad)

    def _maximise_acquisition(
        self, model: surrogate.Posterior, best: float, told: np.ndarray, z: np.ndarray
    ) -> np.ndarray:
        """Candidates: uniform over the cube, and a quarter as many scattered around the three
        best points told (at scales 0.01, 0.05 and 0.2 of the cube: the GP's optimum usually
        lies near the incumbent). The best candidates and the best point told start one joint
        L-BFGS-B polish (the sum of their acquisitions: the problems are separable, and one
        vectorised call per step is far cheaper than one per start)."""
        d = self.dim
        U = self._rng.random((self.n_candidates, d))
        near = told[np.argsort(z)[:3]]
        m = self.n_candidates // 4
        scales = self._rng.choice([0.01, 0.05, 0.2], size=(m, 1))
        offsets = scales * self._rng.standard_normal((m, d))
        U = np.vstack([U, np.clip(near[self._rng.integers(len(near), size=m)] + offsets, 0, 1)])
        if self._discrete:
            U = np.array([self._canonical(u) for u in U])
        scores = self._acquisition(model, U, best)[0]
        top = np.argsort(scores)[::-1][: max(self.n_polish - 1, 0)]
        starts = np.vstack([U[top], told[int(np.argmin(z))]])
        results = [(float(scores.max()), U[int(np.argmax(scores))])]
        if self.n_polish > 0:

            def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
                value, gradient = self._acquisition(model, flat.reshape(-1, d), best, grad=True)
                return -float(value.sum()), -gradient.ravel()

            res = optimize.minimize(
                negative, starts.ravel(), jac=True, method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * starts.size, options={"maxiter": 200},
            )  # fmt: skip
            polished = np.array([self._canonical(u) for u in res.x.reshape(-1, d)])
            scores = self._acquisition(model, polished, best)[0]
            results += zip(scores.tolist(), polished, strict=True)
        results.sort(key=lambda r: -r[0])
        for _, u in results:  # the best that is not a point already told
            if np.min(np.abs(told - u).max(axis=1)) > 1e-9:
                return u
        return self._canonical(self._rng.random(d))  # every candidate was told: explore

    @property
    def _discrete(self) -> bool:
        return any(not isinstance(d, Real) for d in self.space.values())

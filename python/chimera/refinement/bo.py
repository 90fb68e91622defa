"""Bayesian optimisation of an agent's parameters (Layer 5), ask/tell like the evolutionary
algorithms.

A Gaussian process (scikit-learn's: Matern 5/2 with one length scale per dimension, a noise
term, normalised targets) models the objective over the unit cube; expected improvement or a
lower confidence bound chooses where to evaluate next. Mixed spaces are encoded into the cube
(:class:`Real` linearly or on a log scale, :class:`Integer` as a relaxed real rounded on the
way out, :class:`Categorical` one-hot, read back by its largest coordinate). The acquisition
is maximised over a scrambled Sobol sample of candidates, the best few polished by L-BFGS-B.
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
from scipy import optimize, stats
from scipy.stats import qmc

from .._errors import StateError, ValidationError

ACQUISITIONS = ("ei", "lcb")


@dataclass(frozen=True)
class Real:
    """A real parameter in [low, high], searched on a log scale when ``log``."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValidationError(f"Real needs finite low < high, got {self.low}, {self.high}")
        if self.log and self.low <= 0:
            raise ValidationError(f"a log-scale Real needs low > 0, got {self.low}")

    @property
    def width(self) -> int:
        return 1

    def encode(self, v: Any) -> list[float]:
        x = float(v)
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
        if not (isinstance(self.low, int) and isinstance(self.high, int) and self.low < self.high):
            raise ValidationError(f"Integer needs integers low < high, got {self.low}, {self.high}")

    @property
    def width(self) -> int:
        return 1

    def encode(self, v: Any) -> list[float]:
        if isinstance(v, bool) or not float(v).is_integer() or not self.low <= v <= self.high:
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
        object.__setattr__(self, "choices", tuple(choices))
        if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
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
        Expected improvement (with margin ``xi``) or the lower confidence bound
        ``mean - kappa * sd``.
    n_initial : int, optional
        Points of the initial scrambled-Sobol design before the model is used (default
        ``max(5, 2 * encoded dimension)``).
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
        xi: float = 0.01,
        kappa: float = 2.0,
        n_candidates: int = 2048,
        n_polish: int = 3,
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
        if acquisition not in ACQUISITIONS:
            raise ValidationError(
                f"acquisition must be one of {', '.join(ACQUISITIONS)}, got {acquisition!r}"
            )
        self.space = dict(space)
        self.acquisition = acquisition
        self.dim = sum(d.width for d in self.space.values())
        self.n_initial = max(5, 2 * self.dim) if n_initial is None else int(n_initial)
        if self.n_initial < 1:
            raise ValidationError(f"n_initial must be >= 1, got {n_initial!r}")
        self.xi, self.kappa = float(xi), float(kappa)
        self.n_candidates, self.n_polish = int(n_candidates), int(n_polish)
        self.maximize = bool(maximize)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._design = qmc.Sobol(self.dim, scramble=True, rng=self._rng)
        self._X: list[np.ndarray] = []  # encoded, told
        self._y: list[float] = []  # minimised sense
        self._pending: list[dict[str, Any]] | None = None
        self._kernel: Any = None  # the last fitted kernel: the next fit starts from it
        self._fits = 0

    # --- encoding -----------------------------------------------------------------------------

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        missing = set(self.space) - set(params)
        extra = set(params) - set(self.space)
        if missing or extra:
            raise ValidationError(
                f"parameters must name exactly {sorted(self.space)}; missing {sorted(missing)}, "
                f"unknown {sorted(extra)}"
            )
        out: list[float] = []
        for name, dim in self.space.items():
            out += dim.encode(params[name])
        return np.array(out)

    def decode(self, u: np.ndarray) -> dict[str, Any]:
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
        """The next parameters to evaluate: one dict, or a list of ``n`` dicts (a batch)."""
        if isinstance(n, bool) or (n is not None and (not isinstance(n, int) or n < 1)):
            raise ValidationError(f"n must be a positive integer or None, got {n!r}")
        k = 1 if n is None else n
        if self._pending is None or len(self._pending) != k:
            self._pending = self._propose(k)
        return self._pending[0] if n is None else list(self._pending)

    def tell(self, params: Any, values: Any) -> None:
        """Outcomes of evaluated parameters: one dict and one number, or lists of each (any
        parameters in the space, not only asked ones)."""
        batch = isinstance(params, Sequence) and not isinstance(params, Mapping)
        plist = list(params) if batch else [params]
        v = np.atleast_1d(np.asarray(values, dtype=np.float64))
        if v.ndim != 1 or v.size != len(plist):
            raise ValidationError(
                f"values must hold one number per parameter set: {len(plist)} sets, "
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
        gp = self._fit(X, y)
        chosen: list[np.ndarray] = []
        for _ in range(k):
            u = self._maximise_acquisition(gp, float(y.min()), X)
            chosen.append(u)
            if len(chosen) < k:  # constant liar: pretend u came out at the best value
                X = np.vstack([X, u])
                y = np.append(y, y.min())
                gp = self._fit(X, y, keep_kernel=gp.kernel_)
        return [self.decode(u) for u in chosen]

    def _fit(self, X: np.ndarray, y: np.ndarray, keep_kernel: Any = None) -> Any:
        """The GP on (X, y). Hyperparameters start from the last fit's (a warm start, with a
        random restart every fifth fit); ``keep_kernel`` fixes them instead."""
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        if keep_kernel is not None:
            kernel, optimizer, restarts = keep_kernel, None, 0
        else:
            kernel = self._kernel or ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
                np.full(self.dim, 0.5), (1e-2, 1e2), nu=2.5
            ) + WhiteKernel(1e-4, (1e-8, 1e-1))
            optimizer = "fmin_l_bfgs_b"
            restarts = 1 if self._kernel is None or self._fits % 5 == 0 else 0
            self._fits += 1
        gp = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=restarts, optimizer=optimizer,
            random_state=int(self._rng.integers(2**31)),
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # length scales at their bounds are fine here
            gp.fit(X, y)
        if keep_kernel is None:
            self._kernel = gp.kernel_
        return gp

    def _score(self, gp: Any, U: np.ndarray, best: float) -> np.ndarray:
        """The acquisition to maximise at the rows of U."""
        mean, sd = gp.predict(U, return_std=True)
        sd = np.maximum(sd, 1e-12)
        if self.acquisition == "lcb":
            return -(mean - self.kappa * sd)
        gain = best - mean - self.xi * max(abs(best), 1e-12)
        z = gain / sd
        return gain * stats.norm.cdf(z) + sd * stats.norm.pdf(z)

    def _maximise_acquisition(self, gp: Any, best: float, told: np.ndarray) -> np.ndarray:
        U = self._rng.random((self.n_candidates, self.dim))
        U = np.array([self._canonical(u) for u in U]) if self._discrete else U
        scores = self._score(gp, U, best)
        starts = U[np.argsort(scores)[::-1][: self.n_polish]]
        results = [(float(scores.max()), U[int(np.argmax(scores))])]
        step = 1e-6
        steps = np.vstack([np.zeros(self.dim), step * np.eye(self.dim)])

        def negative_and_gradient(u: np.ndarray) -> tuple[float, np.ndarray]:
            # Forward differences from one prediction of d + 1 points, not d + 1 predictions.
            f = -self._score(gp, u[None, :] + steps, best)
            return float(f[0]), (f[1:] - f[0]) / step

        for x0 in starts:
            res = optimize.minimize(
                negative_and_gradient, x0, jac=True, method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * self.dim, options={"maxiter": 50},
            )  # fmt: skip
            u = self._canonical(res.x)
            results.append((float(self._score(gp, u[None, :], best)[0]), u))
        results.sort(key=lambda r: -r[0])
        for _, u in results:  # the best that is not a point already told
            if np.min(np.abs(told - u).max(axis=1)) > 1e-9:
                return u
        return self._canonical(self._rng.random(self.dim))  # every candidate was told: explore

    @property
    def _discrete(self) -> bool:
        return any(not isinstance(d, Real) for d in self.space.values())

"""CMA-ES and its large-scale variants on the optimizer protocol, with restarts.

One generation, top-down (``ask`` then ``tell``):

1. sample: ``z`` from the generation's Philox rows (``docs/kernels.md``), mirrored in pairs
   if asked; the model turns ``z`` into steps ``y``; genotypes ``g = mean + sigma y`` (injected
   solutions replace the first rows); the bound handling maps ``g`` into the box, and that is
   what ``ask`` returns;
2. rank: by the objective (plus the bound penalty, if that is the handling; with mirrored
   sampling only the better of each pair is ranked among the best);
3. move: ``mean += sigma y_w``, the step-size path ``ps`` and cumulative step-size adaptation;
4. learn: the model adapts its shape from the ranked steps;
5. stop or restart: the run's stopping criteria (:mod:`.termination`); when one is met the
   restart policy (:mod:`.restarts`) starts the next run from a new start point, or the
   optimizer stops (``stop_reason``).

Every random number comes from a counter-based stream keyed by the seed and the generation
(counted across restarts) or the restart, so a checkpoint taken anywhere resumes bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .. import _backend, _state_dict
from .._errors import ValidationError
from .._validate import boolean, choice, integer, real
from ..optimizer import Optimizer, Survival
from . import bounds as bounding
from . import noise
from .models import MODELS, DiagonalCovariance, FullCovariance, Model
from .parameters import Parameters, default_pop_size, parameters
from .restarts import POLICIES, Restarts, Run
from .termination import Termination, Tolerances

SAMPLE, RESTART = 9, 10  # Philox purposes (docs/kernels.md)

#: The central part of the box a restart's start point is drawn from (BBOB practice: a start
#: in [-4, 4]^n for a search space of [-5, 5]^n).
START_MARGIN = 0.1


class EvolutionStrategy(Optimizer):
    """An evolution strategy sampling ``mean + sigma * y`` with ``y`` from a learnt
    distribution, restarted by a policy when a run stops (see :mod:`chimera.strategies`).

    Parameters
    ----------
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene; what ``ask()`` returns always lies within them.
    pop_size : int, optional
        Samples per generation of the first run (lambda); default ``4 + floor(3 ln dim)``.
        Restarts may enlarge it: ``pop_size`` is then the current run's.
    seed : int, optional
        Seed of the counter-based streams; the same seed gives the same run after any number
        of checkpoints and resumes, and on any number of chimera's threads. The matrix
        products go through BLAS, whose rounding may change with its own thread count
        (OpenBLAS at 124 rows or more): pin it (``OPENBLAS_NUM_THREADS``, threadpoolctl) for
        runs that must agree bit for bit across machines.
    sigma0 : float, optional
        Initial step size in the units of the bounds; default 0.2 times the mean width of the
        box. A box with unequal widths also scales each gene's initial deviation by its width.
    x0 : array_like, optional
        The first run's initial mean (inside the bounds); default, as every restart's: uniform
        in the central 80 % of the box.
    restarts : {"bipop", "ipop", "none"}
        What follows a run that stopped: BIPOP's two regimes (large populations and small
        runs with small steps), IPOP's doubling population, or nothing (the optimizer stops).
    max_restarts : int
        Restarts allowed (for bipop, runs of its large regime).
    noise_handling : bool
        Uncertainty handling for noisy objectives (UH-CMA-ES): ``2 + lam // 20`` samples a
        generation are evaluated twice (``ask`` returns them again at the end, so the batch has
        that many more rows), ranked by the mean of their two values, and sigma grows while the
        re-evaluations reorder the ranking more than harmless noise would.
    mirrored : bool
        Mirrored sampling (``z`` and ``-z`` in pairs) with pairwise selection: only the better
        of a pair is ranked, and the weights are those of a population of the winners (needs
        ``pop_size >= 4``).
    bound_handling : {"transform", "penalty"}
        Keep samples in the box by a smooth periodic map (as pycma's default) or evaluate the
        nearest point in the box and rank by an adaptive quadratic penalty on the distance.
    tolfun : float
        A run stops when its recent values all lie within this.
    tolx : float
        A run stops when every coordinate's standard deviation is below this.
    maximize : bool
        Maximise the objective instead of minimising it.
    nan_policy : {"raise", "worst"}
        NaN or infinite values raise (naming the individuals) or rank last.
    backend : {"auto", "cpp", "numba"}
        Where the samples are drawn; the matrix work goes through BLAS on every backend.
    """

    resizes = True
    backends = ("cpp", "numba")
    #: The model of the distribution (:data:`chimera.strategies.models.MODELS`).
    model: ClassVar[str] = "full"
    active: ClassVar[bool] = True

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int | None = None,
        seed: int | None = None,
        sigma0: float | None = None,
        x0: npt.ArrayLike | None = None,
        restarts: str = "bipop",
        max_restarts: int = 9,
        noise_handling: bool = False,
        mirrored: bool = False,
        bound_handling: str = "transform",
        tolfun: float = 1e-11,
        tolx: float = 1e-11,
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        dim = np.shape(bounds)[0] if np.ndim(bounds) == 2 else None
        lam = self.population_size({"pop_size": pop_size}, 1, dim)
        super().__init__(bounds, pop_size=lam, seed=seed, dtype="float64", maximize=maximize,
                         nan_policy=nan_policy, backend=backend)  # fmt: skip
        _, self._kernels = _backend.resolve(self.backend, "es")
        n = self.dim
        width = self.high - self.low
        self.sigma0 = (real(sigma0, "sigma0", 0.0, open_low=True) if sigma0 is not None
                       else 0.2 * float(width.mean()))  # fmt: skip
        self._stds0 = width / width.mean()  # each gene's initial deviation, in units of sigma
        self.x0 = None if x0 is None else self._start_point(x0)
        self.restarts = choice(restarts, "restarts", POLICIES)
        self.max_restarts = integer(max_restarts, "max_restarts", 0, 1000)
        self.mirrored = boolean(mirrored, "mirrored")
        if self.mirrored and self.pop_size < 4:
            raise ValidationError(f"mirrored needs pop_size >= 4 (two pairs), got "
                                  f"{self.pop_size}: raise pop_size or set mirrored=False")  # fmt: skip
        self.noise_handling = boolean(noise_handling, "noise_handling")
        self.rank_change = 0.0  # the smoothed measure of UH-CMA-ES (negative: noise harmless)
        self.bound_handling = choice(bound_handling, "bound_handling", tuple(bounding.BOUNDS))
        self.tolerances = Tolerances(tolfun=real(tolfun, "tolfun", 0.0, open_low=True),
                                     tolx=real(tolx, "tolx", 0.0, open_low=True))  # fmt: skip
        self._bounds = bounding.BOUNDS[self.bound_handling](self.low, self.high, self._kernels)
        self._policy = Restarts(self.restarts, self.max_restarts, self.pop_size)
        self._injected = np.zeros((0, n))
        self._Y: np.ndarray | None = None  # the pending ask's steps and their samples
        self._Z: np.ndarray | None = None
        self._work: dict[str, np.ndarray] = {}  # reused (lam, n) arrays: see _rows
        self._stop: str | None = None
        self.runs: list[dict[str, Any]] = []  # each finished run: regime, lam, evals, stop
        self._begin(self._policy.first(), restart=0)

    # a run ------------------------------------------------------------------------------

    def _begin(self, run: Run, restart: int) -> None:
        """Starts a run: its parameters, model, stopping criteria and start point."""
        n = self.dim
        u = self._kernels_uniform(restart, n + 2)
        self._run, self._restart, self._run_evals = run, restart, 0
        self.pop_size = run.lam + self._reevaluations(run.lam)
        self._p, self._model, self._term = self._run_parts(run)
        start = start_point(self.low, self.high, u[:n])
        self.mean = self.x0.copy() if restart == 0 and self.x0 is not None else start
        self.sigma = self.sigma0 * run.sigma_factor
        self._sigma_start = self.sigma
        self.ps = np.zeros(n)
        self.t = 0  # generations of this run
        self._u_next = (float(u[n]), float(u[n + 1]))  # the draws that shape the next restart

    def _run_parts(self, run: Run) -> tuple[Parameters, Model, Termination]:
        """A run's parameters, its fresh model and its stopping criteria (maxiter: pycma's
        ``100 + 150 (n + 3)^2 / sqrt(lam)``, or the regime's if smaller)."""
        n = self.dim
        p = parameters(n, run.lam, model=self.model, active=self.active, mirrored=self.mirrored)
        maxiter = math.ceil(100 + 150 * (n + 3) ** 2 / math.sqrt(run.lam))
        term = Termination(n, run.lam, min(maxiter, run.maxiter or maxiter), self.tolerances)
        return p, MODELS[self.model](p, self._stds0, self._kernels), term

    def _kernels_uniform(self, restart: int, k: int) -> np.ndarray:
        from .._core import rng  # the restart stream: a handful of words, drawn once a run

        return np.asarray(rng.uniform(self.seed, restart, 0, RESTART, k))

    def _end(self, reason: str) -> None:
        """The run stopped: record it, then restart or stop the optimizer."""
        evals = self._run_evals
        self.runs.append({"restart": self._restart, "regime": self._run.regime,
                          "pop_size": self._run.lam, "sigma0": self._sigma_start,
                          "generations": self.t, "evals": evals, "stop": reason})  # fmt: skip
        self._policy.ended(evals)
        nxt = self._policy.next(*self._u_next)
        if nxt is None:
            self._stop = f"stopped: {reason} after {len(self.runs)} run(s) of {self.restarts}"
            if self.restarts != "none":
                self._stop += " (no restart left)"
            return
        self._begin(nxt, self._restart + 1)

    # ask / tell ------------------------------------------------------------------------

    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        lam = self._p.lam
        self._model.prepare(self.t)
        Z = self._rows("Z", lam)
        self._kernels.standard_normal(Z, self.seed, self.generation, SAMPLE)
        if self.mirrored:
            half = lam // 2
            np.negative(Z[:half], out=Z[half : 2 * half])
        Y = self._model.sample(Z, self._rows("Y", lam))
        k = min(lam, self._injected.shape[0])
        if k:
            Y[:k], Z[:k] = self._injected_steps(self._injected[:k])
            self._injected = self._injected[k:]
        self._Y, self._Z = Y, Z
        X = self._bounds.phenotype(self.mean, self.sigma, Y)
        k = self._reevaluations(lam)
        return (np.concatenate([X, X[:k]]) if k else X), None

    def _rows(self, name: str, rows: int) -> np.ndarray:
        """The ``(rows, n)`` work array ``name``, allocated again only when ``rows`` changes: a
        new array of a few MB each generation costs page faults as the allocator returns it
        to the system and takes it back (at n = 10,000 more than the strategy's arithmetic)."""
        work = self._work.get(name)
        if work is None or work.shape[0] != rows:  # a restart's size: none kept from larger
            work = self._work[name] = np.empty((rows, self.dim))
        return work

    def _reevaluations(self, lam: int) -> int:
        return noise.reevaluations(lam) if self.noise_handling else 0

    def _injected_steps(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The steps to injected solutions X and their samples, shortened to a Mahalanobis
        length a sample could have (pycma's ``chi_n + 2 n / (n + 2)``), so that a far-away
        solution cannot blow up C."""
        model = self._model
        assert isinstance(model, FullCovariance | DiagonalCovariance)  # inject() refuses others
        Y = (X - self.mean) / self.sigma
        Z = model.whiten(Y)
        length = np.sqrt(np.einsum("ij,ij->i", Z, Z))
        cap = self._p.chi_n + 2 * self.dim / (self.dim + 2)
        Y = Y * np.minimum(1.0, cap / np.maximum(length, 1e-300))[:, None]
        return Y, model.whiten(Y)

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        assert self._Y is not None and self._Z is not None
        p, n = self._p, self.dim
        f = F[: p.lam, 0]
        k = F.shape[0] - p.lam  # values of samples evaluated again (noise handling)
        if k:
            again = F[p.lam :, 0]
            self.rank_change = (1 - noise.C_S) * self.rank_change + noise.C_S * noise.rank_change(
                f, again)  # fmt: skip
            f = f.copy()
            f[:k] = (f[:k] + again) / 2
        f = self._bounds.penalty(self.mean, self.sigma, self._Y, X[: p.lam], f)
        if self.mirrored:
            f = _pairwise(f)
        order = np.argsort(f, kind="stable")
        top = order[: p.ranked]  # the ranks with a weight (the pair losers have none)
        w = p.weights[: p.ranked]
        # the ranked rows, gathered into work arrays (mode "clip": an unbuffered take)
        Y = self._Y.take(top, axis=0, out=self._rows("ranked Y", top.size), mode="clip")
        Z = self._Z.take(top, axis=0, out=self._rows("ranked Z", top.size), mode="clip")
        y_w = p.positive @ Y[: p.mu]
        z_w = p.positive @ Z[: p.mu]
        self.mean = self.mean + self.sigma * y_w
        self.ps *= 1 - p.cs
        self.ps += math.sqrt(p.cs * (2 - p.cs) * p.mueff) * self._model.rotate(z_w)
        norm2 = float(self.ps @ self.ps)
        hsig = norm2 / (1 - (1 - p.cs) ** (2 * (self.t + 1))) / n < 2 + 4 / (n + 1)
        self._model.adapt(Y, Z, w, y_w, z_w, hsig)
        self.sigma *= self._model.sigma_factor(norm2)
        if k and self.rank_change > 0:  # selection sees noise more than differences: step up
            self.sigma *= noise.sigma_factor(n)
        self.t += 1
        self._run_evals += F.shape[0]
        stds = self._model.stds()
        self._bounds.adapt(f, self.mean, self.sigma, stds, p.mueff)
        reason = self._term.check(
            self.t, f[order[: p.candidates]], self.mean, self.sigma, self._sigma_start, stds,
            getattr(self._model, "pc", None), self._model.axis_ratio(),
            getattr(self._model, "principal_axis", None),
        )  # fmt: skip
        self._Y = self._Z = None
        if reason is not None and self._stop is None:  # asked on after the last run stopped
            self._end(reason)
        return Survival(X, F, cv, None)

    def inject(self, solutions: npt.ArrayLike) -> None:
        """Solutions (``(k, dim)`` or one ``(dim,)``, inside the bounds) to take the place of
        samples in the next asks: the strategy learns from them as from its own samples, their
        steps shortened to a length a sample could have."""
        if not self._model.injects:
            raise ValidationError(f"{type(self).__name__} cannot take injected solutions (its "
                                  "transform has no cheap inverse); use CMAES or SepCMAES to "
                                  "inject")  # fmt: skip
        try:
            S = np.array(solutions, dtype=np.float64, ndmin=2)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"solutions must be a numeric (k, {self.dim}) array: "
                                  f"{exc}") from None  # fmt: skip
        if S.ndim != 2 or S.shape[1] != self.dim:
            raise ValidationError(f"solutions must have shape (k, {self.dim}), got {S.shape}")
        if not np.isfinite(S).all():
            raise ValidationError("solutions must be finite")
        if ((self.low > S) | (self.high < S)).any():
            raise ValidationError("solutions must lie within the bounds")
        if self._injected.shape[0] + S.shape[0] > 2**20:
            raise ValidationError("more than 2**20 solutions wait to be injected")
        self._injected = np.concatenate([self._injected, S])

    @property
    def stop_reason(self) -> str | None:
        return self._stop

    def _start_point(self, x0: npt.ArrayLike) -> np.ndarray:
        return checked_x0(x0, self.low, self.high, [(self.dim,)])

    # checkpoints --------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        return {"model": self.model, "sigma0": self.sigma0,
                "x0": None if self.x0 is None else self.x0.tolist(), "restarts": self.restarts,
                "max_restarts": self.max_restarts, "mirrored": self.mirrored,
                "noise_handling": self.noise_handling,
                "bound_handling": self.bound_handling, "tolfun": self.tolerances.tolfun,
                "tolx": self.tolerances.tolx, "maximize": self.maximize}  # fmt: skip

    def _state(self) -> dict[str, Any]:
        copy = _state_dict.copy
        run = self._run
        return {
            **super()._state(),
            "run": {"lam": run.lam, "sigma_factor": run.sigma_factor, "maxiter": run.maxiter,
                    "regime": run.regime, "restart": self._restart, "evals": self._run_evals,
                    "t": self.t, "sigma": self.sigma, "sigma_start": self._sigma_start,
                    "u_next": list(self._u_next), "rank_change": self.rank_change},
            "mean": self.mean.copy(), "ps": self.ps.copy(), "Y": copy(self._Y),
            "Z": copy(self._Z), "injected": self._injected.copy(), "stop": self._stop,
            "runs": [dict(r) for r in self.runs], "model_state": self._model.state(),
            "termination": self._term.state(), "bound_state": self._bounds.state(),
            "policy": self._policy.state(),
        }  # fmt: skip

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        F, cv, _ = super()._load_state(state, n)
        run_state = state.get("run")
        if not isinstance(run_state, Mapping):
            raise ValidationError(f"{type(self).__name__} checkpoint has no run")
        lam, restart, run_evals, t = _state_dict.counters(run_state, "lam", "restart", "evals",
                                                         "t")  # fmt: skip
        maxiter = run_state.get("maxiter")
        if maxiter is not None:
            (maxiter,) = _state_dict.counters(run_state, "maxiter")
        sigma, sigma_start, factor = (real(run_state.get(k), f"checkpoint {k}") for k in
                                      ("sigma", "sigma_start", "sigma_factor"))  # fmt: skip
        u_next = np.asarray(run_state.get("u_next"), dtype=object)
        regime = run_state.get("regime")
        if (lam < 2 or regime not in ("small", "large") or u_next.shape != (2,)
                or state.get("pop_size") != lam + self._reevaluations(lam)):  # fmt: skip
            raise ValidationError(f"{type(self).__name__} checkpoint's run is inconsistent")
        u = tuple(real(v, "checkpoint u_next") for v in u_next)
        rank_change = real(run_state.get("rank_change"), "checkpoint rank_change")
        pending = state.get("pending")
        d = self.dim
        Y = _state_dict.array(state, "Y", (lam, d), np.float64)
        Z = _state_dict.array(state, "Z", (lam, d), np.float64)
        if (Y is None) != (pending is None) or (Z is None) != (Y is None):
            raise ValidationError(f"{type(self).__name__} checkpoint's pending samples are "
                                  "partial")  # fmt: skip
        mean = _state_dict.finite_array(state, "mean", (d,))
        ps = _state_dict.finite_array(state, "ps", (d,))
        injected = _state_dict.array(state, "injected", (_state_dict.rows(state.get("injected")), d),
                                     np.float64)  # fmt: skip
        if injected is None:
            raise ValidationError("checkpoint injected must be a (k, dim) array")
        stop = state.get("stop")
        runs = state.get("runs")
        if (stop is not None and not isinstance(stop, str)) or not isinstance(runs, list):
            raise ValidationError(f"{type(self).__name__} checkpoint's stop and runs are bad")
        run = Run(lam, factor, maxiter, str(regime))
        p, model, term = self._run_parts(run)
        loads = [model.load(_mapping(state, "model_state")),
                 term.load(_mapping(state, "termination")),
                 self._bounds.load(_mapping(state, "bound_state")),
                 self._policy.load(_mapping(state, "policy"))]  # fmt: skip
        values = dict(run=run, rank_change=rank_change, restart=restart, run_evals=run_evals, t=t, sigma=sigma,
                      sigma_start=sigma_start, u_next=u, Y=Y, Z=Z, mean=mean, ps=ps,
                      injected=injected, stop=stop, runs=[dict(r) for r in runs], p=p,
                      model=model, term=term)  # fmt: skip
        return F, cv, (loads, values)

    def _apply_state(self, extra: Any) -> None:
        loads, v = extra
        for apply in loads:
            apply()
        self._run, self._restart, self._run_evals = v["run"], v["restart"], v["run_evals"]
        self.t, self.rank_change = v["t"], v["rank_change"]
        self.sigma, self._sigma_start, self._u_next = v["sigma"], v["sigma_start"], v["u_next"]
        self._Y, self._Z, self.mean, self.ps = v["Y"], v["Z"], v["mean"], v["ps"]
        self._injected, self._stop, self.runs = v["injected"], v["stop"], v["runs"]
        self._p, self._model, self._term = v["p"], v["model"], v["term"]

    # planning -----------------------------------------------------------------------------

    @classmethod
    def population_size(cls, options: Mapping[str, Any], n_obj: int = 1,
                        dim: int | None = None) -> int:  # fmt: skip
        """``pop_size`` if given, else ``4 + floor(3 ln dim)``."""
        if options.get("pop_size") is not None:
            return integer(options["pop_size"], "pop_size", 4 if cls.model == "full" else 2,
                           2**31 - 1)  # fmt: skip
        if dim is None:
            raise ValidationError(f"{cls.__name__}'s default pop_size follows from the "
                                  "dimension: give the bounds, or pop_size")  # fmt: skip
        return default_pop_size(integer(dim, "dim", 1, 2**31 - 1))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(dim={self.dim}, pop_size={self.pop_size}, "
                f"sigma={self.sigma:.3g}, restarts={self.restarts!r}, run={len(self.runs) + 1}, "
                f"generation={self.generation})")  # fmt: skip


class CMAES(EvolutionStrategy):
    """CMA-ES (Hansen and Ostermeier 2001; Hansen 2016) with pycma's defaults: weighted
    recombination, cumulative step-size adaptation, rank-one and active rank-mu covariance
    updates, a lazy eigendecomposition, and BIPOP restarts by default."""

    _FORMAT = "chimera.CMAES/1"


class SepCMAES(EvolutionStrategy):
    """Separable CMA-ES (Ros and Hansen 2008): a diagonal covariance learnt ``(n + 2) / 3``
    times faster, O(n) a sample; for many genes, and for problems close to separable."""

    model = "diagonal"
    _FORMAT = "chimera.SepCMAES/1"


class LMMAES(EvolutionStrategy):
    """LM-MA-ES (Loshchilov, Glasmachers and Beyer 2018): ``4 + floor(3 ln n)`` direction
    vectors in place of a covariance matrix, O(m n) memory and time a sample, for thousands
    of genes. Its learning rates assume a population much smaller than n: below about 20
    genes, or with restarts' populations near n, use cmaes."""

    model = "limited_memory"
    active = False
    _FORMAT = "chimera.LMMAES/1"


def start_point(low: np.ndarray, high: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A run's start from uniforms u in [0, 1) (rows or one): the box less START_MARGIN of its
    width at each side."""
    return low + (high - low) * (START_MARGIN + (1 - 2 * START_MARGIN) * u)


def checked_x0(x0: npt.ArrayLike, low: np.ndarray, high: np.ndarray,
               shapes: list[tuple[int, ...]]) -> np.ndarray:  # fmt: skip
    """``x0`` as a float64 array of one of ``shapes``, finite and within the bounds."""
    want = " or ".join(str(s) for s in shapes)
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"x0 must be a numeric array of shape {want}: {exc}") from None
    if x.shape not in shapes:
        raise ValidationError(f"x0 must have shape {want}, got {x.shape}")
    if not np.isfinite(x).all() or ((x < low) | (x > high)).any():
        raise ValidationError("x0 must be finite and lie within the bounds")
    return x


def _pairwise(f: np.ndarray) -> np.ndarray:
    """Pairwise selection of mirrored pairs (row i and row i + lam // 2): the worse of each
    ranks after every better one, where the mirrored parameters give no weight (its step is
    its partner's, negated, so an active weight on it would undo the partner's)."""
    half = f.size // 2
    a, b = f[:half], f[half : 2 * half]
    worse = np.concatenate([np.flatnonzero(a > b), half + np.flatnonzero(a <= b)])
    f = f.copy()
    f[worse] = np.inf
    return f


def _mapping(state: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = state.get(key)
    if not isinstance(v, Mapping):
        raise ValidationError(f"checkpoint {key} must be a dict")
    return v

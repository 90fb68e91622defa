"""Many independent CMA-ES runs in lockstep, as arrays with a leading batch axis.

``BatchCMAES(bounds, batch)`` keeps ``batch`` full-covariance CMA-ES runs on one box: every
generation samples ``(batch, lam, n)`` points, takes ``(batch, lam)`` values, and updates all
means, paths, covariances and step sizes with batched array operations (stacked matrix
products, one batched ``eigh`` when the lazy decomposition is due). It is what many seeds,
problem instances or hyperparameter settings cost as one computation instead of ``batch``
Python objects: the work of a generation is a handful of array calls whatever the batch.

The arrays are NumPy's by default; ``xp=cupy`` keeps the state, the products and the
decompositions on a GPU. The samples are the documented Philox rows either way (drawn by the
C++ kernel on the host and copied to the device), so a batch samples the same points on any
device: run ``b`` draws row ``b lam + i`` of ``Stream(seed, generation, ., SAMPLE)``, and run 0
starts and samples as ``CMAES(bounds, seed=seed, restarts="none")`` does, whose update
equations these are (no restarts, mirrors, noise handling or injection: those change a run's
population size or its sampling, which a lockstep batch shares).

A run stops updating (it keeps being sampled, the cost of lockstep) when its steps fall
below ``tolx`` in every coordinate or its covariance's condition number passes 1e14;
``stopped`` tells which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _state_dict
from .._core import es as _es
from .._core import rng as _rng
from .._errors import FitnessError, StateError, ValidationError
from .._validate import as_bounds, as_seed, integer, real
from .bounds import BoundTransform
from .cmaes import RESTART, SAMPLE, checked_x0, start_point
from .models import decomposition_gap, floored_eigenvalues
from .parameters import default_pop_size, parameters

#: A run stops when its axis ratio passes this (pycma's tolconditioncov 1e14, as a ratio).
MAX_AXIS_RATIO = 1e7

_FORMAT = "chimera.BatchCMAES/1"


class BatchCMAES:
    """``batch`` CMA-ES runs (active rank-mu, CSA, the box transform) updated together.

    Parameters
    ----------
    bounds : array_like, shape (n, 2)
        The box every run searches, ``(low, high)`` per gene.
    batch : int
        How many runs.
    pop_size : int, optional
        Samples per run and generation; default ``4 + floor(3 ln n)``.
    seed : int, optional
        Seed of the Philox streams (None draws one).
    sigma0 : float, optional
        Initial step size; default a fifth of the mean width of the box.
    x0 : array_like, shape (n,) or (batch, n), optional
        Start points inside the box; default each run's uniform draw in the box less a tenth
        of its width at each side (run b: ``Stream(seed, 0, b, RESTART)``).
    tolx : float
        A run stops when ``sigma sqrt(C_ii)`` and ``sigma |pc_i|`` are below this for all i.
    xp : module, optional
        The array module: ``numpy`` (default) or ``cupy``.
    """

    def __init__(self, bounds: npt.ArrayLike, batch: int, *, pop_size: int | None = None,
                 seed: int | None = None, sigma0: float | None = None,
                 x0: npt.ArrayLike | None = None, tolx: float = 1e-11,
                 xp: Any = None) -> None:  # fmt: skip
        self.xp = np if xp is None else xp
        low, high = as_bounds(bounds, np.dtype(np.float64))
        n = self.dim = low.size
        self.batch = integer(batch, "batch", 1, 2**24)
        self.pop_size = (default_pop_size(n) if pop_size is None
                         else integer(pop_size, "pop_size", 4, 2**20))  # fmt: skip
        if self.batch * self.pop_size > 2**31:
            raise ValidationError("batch * pop_size must be at most 2**31 (rows of one stream)")
        self.seed = as_seed(seed)
        width = high - low
        self.sigma0 = (0.2 * float(width.mean()) if sigma0 is None
                       else real(sigma0, "sigma0", 0.0, open_low=True))  # fmt: skip
        self.tolx = real(tolx, "tolx", 0.0, open_low=True)
        self.low, self.high = low, high
        self._box = BoundTransform(low, high, _es)
        self._p = p = parameters(n, self.pop_size)
        self._gap = decomposition_gap(p)
        xp_ = self.xp
        stds = width / width.mean()
        self.mean = xp_.asarray(self._starts(x0))
        self.sigma = xp_.full(self.batch, self.sigma0)
        self.ps = xp_.zeros((self.batch, n))
        self.pc = xp_.zeros((self.batch, n))
        self.C = xp_.asarray(np.broadcast_to(np.diag(stds**2), (self.batch, n, n)).copy())
        self.B = xp_.asarray(np.broadcast_to(np.eye(n), (self.batch, n, n)).copy())
        self.D = xp_.asarray(np.broadcast_to(stds, (self.batch, n)).copy())
        self.stopped = xp_.zeros(self.batch, dtype=bool)
        self.best_f = xp_.full(self.batch, math.inf)
        self.best_x = xp_.asarray(self.mean).copy()
        self.generation = self.nfev = 0
        self._decomposed_at = 0
        self._pending: tuple[Any, Any, Any] | None = None  # (X, Y, Z) of the last ask

    def _starts(self, x0: npt.ArrayLike | None) -> np.ndarray:
        n, b = self.dim, self.batch
        if x0 is None:  # run b's start is CMAES's first, from Stream(seed, 0, b, RESTART)
            u = np.asarray(_rng.uniform_rows(self.seed, 0, RESTART, b, n + 2))[:, :n]
            return start_point(self.low, self.high, u)
        x = checked_x0(x0, self.low, self.high, [(n,), (b, n)])
        return np.broadcast_to(x, (b, n)).copy()

    # ask / tell ---------------------------------------------------------------------------

    def ask(self) -> Any:
        """The next ``(batch, pop_size, n)`` points to evaluate (the same until ``tell``)."""
        if self._pending is None:
            self._pending = self._sample()
        return self._pending[0]

    def _sample(self) -> tuple[Any, Any, Any]:
        xp, b, lam, n = self.xp, self.batch, self.pop_size, self.dim
        if self.generation - self._decomposed_at >= self._gap:
            self._decompose()
        Z = np.empty((b * lam, n))
        _es.standard_normal(Z, self.seed, self.generation, SAMPLE)
        Z = xp.asarray(Z).reshape(b, lam, n)
        Y = xp.matmul(Z * self.D[:, None, :], xp.swapaxes(self.B, 1, 2))
        G = self.mean[:, None, :] + self.sigma[:, None, None] * Y
        return self._phenotype(G), Y, Z

    def _phenotype(self, G: Any) -> Any:
        """The box transform of the points G (the identity inside the margins)."""
        box = self._box
        if self.xp is np:  # each run's own mean and sigma are in G already
            return box.phenotype(np.zeros(self.dim), 1.0, G.reshape(-1, self.dim)).reshape(G.shape)
        xp = self.xp
        return box_map(xp, G, *(xp.asarray(a) for a in (box.low, box.high, box.al, box.au)))

    def tell(self, F: npt.ArrayLike) -> None:
        """Values ``(batch, pop_size)`` (minimised) of the points of the last ``ask``."""
        if self._pending is None:
            raise StateError("tell() needs a pending ask(): call ask(), evaluate it, then tell()")
        xp, p, n = self.xp, self._p, self.dim
        f = xp.asarray(F, dtype=xp.float64)
        if f.shape != (self.batch, self.pop_size):
            raise FitnessError(f"F must have shape ({self.batch}, {self.pop_size}), one value "
                               f"per point asked, got {tuple(f.shape)}")  # fmt: skip
        if bool(xp.isnan(f).any()):
            raise FitnessError("F has NaN values")
        X, Y, Z = self._pending
        self._pending = None
        rows = xp.arange(self.batch)
        order = xp.argsort(f, axis=1, kind="stable")
        best = order[:, 0]
        improved = f[rows, best] < self.best_f
        self.best_f = xp.where(improved, f[rows, best], self.best_f)
        self.best_x = xp.where(improved[:, None], X[rows, best], self.best_x)
        live = ~self.stopped
        Ys = xp.take_along_axis(Y, order[:, :, None], axis=1)
        Zs = xp.take_along_axis(Z, order[:, :, None], axis=1)
        w = xp.asarray(p.weights)
        pos = w[: p.mu]
        y_w = xp.einsum("k,bkn->bn", pos, Ys[:, : p.mu])
        z_w = xp.einsum("k,bkn->bn", pos, Zs[:, : p.mu])
        mean = self.mean + self.sigma[:, None] * y_w
        ps = (1 - p.cs) * self.ps + math.sqrt(p.cs * (2 - p.cs) * p.mueff) * xp.einsum(
            "bij,bj->bi", self.B, z_w)  # fmt: skip
        norm2 = (ps * ps).sum(axis=1)
        hsig = norm2 / (1 - (1 - p.cs) ** (2 * (self.generation + 1))) / n < 2 + 4 / (n + 1)
        pc = (1 - p.cc) * self.pc + (hsig * math.sqrt(p.cc * (2 - p.cc) * p.mueff))[:, None] * y_w
        c1a = p.c1 * (1 - (1 - hsig) * p.cc * (2 - p.cc))
        decay = 1 - c1a - p.cmu * p.weight_sum
        # active CMA: a negative weight scaled by n / ||z_i||^2 (C stays positive definite)
        wc = xp.broadcast_to(w, (self.batch, p.lam)).copy()
        if p.lam > p.mu:
            tail = (Zs[:, p.mu :] ** 2).sum(axis=2)
            wc[:, p.mu :] = w[p.mu :] * n / xp.maximum(tail, 1e-300)
        C = (decay[:, None, None] * self.C + p.c1 * pc[:, :, None] * pc[:, None, :]
             + p.cmu * xp.matmul(xp.swapaxes(Ys, 1, 2) * wc[:, None, :], Ys))  # fmt: skip
        sigma = self.sigma * xp.exp(
            xp.minimum(1.0, p.cs / p.damps * (xp.sqrt(norm2) / p.chi_n - 1))
        )
        self.mean = xp.where(live[:, None], mean, self.mean)
        self.ps = xp.where(live[:, None], ps, self.ps)
        self.pc = xp.where(live[:, None], pc, self.pc)
        self.C = xp.where(live[:, None, None], C, self.C)
        self.sigma = xp.where(live, sigma, self.sigma)
        self.generation += 1
        self.nfev += self.batch * self.pop_size
        stds = self.sigma[:, None] * xp.sqrt(xp.diagonal(self.C, axis1=1, axis2=2))
        small = ((stds < self.tolx) & (self.sigma[:, None] * xp.abs(self.pc) < self.tolx)).all(
            axis=1
        )
        ratio = self.D.max(axis=1) / self.D.min(axis=1)
        self.stopped = self.stopped | small | (ratio > MAX_AXIS_RATIO) | ~xp.isfinite(self.sigma)

    def _decompose(self) -> None:
        """B and D of every covariance (one batched symmetric eigendecomposition)."""
        xp = self.xp
        # NumPy: LAPACK's dsyevd per matrix, reading the upper triangle as CMAES's does (the
        # same eigenvectors, signs included); CuPy: cuSOLVER's batched Jacobi (syevjBatched)
        d2, B = xp.linalg.eigh(self.C, UPLO="U")
        d2 = floored_eigenvalues(d2, xp)
        failed = ~(xp.isfinite(d2).all(axis=1) & xp.isfinite(B).all(axis=(1, 2)))
        self.stopped = self.stopped | failed
        live = ~self.stopped  # a stopped run keeps the distribution it stopped with
        self.B = xp.where(live[:, None, None], B, self.B)
        self.D = xp.where(live[:, None], xp.sqrt(d2), self.D)
        self._decomposed_at = self.generation

    # checkpoints --------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a run needs to continue bit for bit, as NumPy arrays (the pending ask
        is sampled again: its points depend only on the state and the generation)."""
        host = getattr(self.xp, "asnumpy", np.asarray)
        keys = ("mean", "sigma", "ps", "pc", "C", "B", "D", "stopped", "best_f", "best_x")
        return {"format": _FORMAT, "seed": self.seed, "batch": self.batch,
                "pop_size": self.pop_size, "low": self.low.copy(), "high": self.high.copy(),
                "tolx": self.tolx, "generation": self.generation, "nfev": self.nfev,
                "decomposed_at": self._decomposed_at,
                **{k: np.array(host(getattr(self, k))) for k in keys}}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continues from ``state_dict()`` of a batch with the same bounds, batch and
        population size; nothing changes when the state is refused."""
        if not isinstance(state, Mapping) or state.get("format") != _FORMAT:
            raise ValidationError(f"not a {_FORMAT} state")
        for key in ("seed", "batch", "pop_size", "tolx"):
            if state.get(key) != getattr(self, key):
                raise ValidationError(f"state {key} {state.get(key)!r} differs from this "
                                      f"batch's {getattr(self, key)!r}")  # fmt: skip
        b, n = self.batch, self.dim
        for key in ("low", "high"):
            if not np.array_equal(np.asarray(state.get(key), dtype=float), getattr(self, key)):
                raise ValidationError(f"state {key} differs from this batch's bounds")
        finite = {"mean": (b, n), "sigma": (b,), "ps": (b, n), "pc": (b, n), "C": (b, n, n),
                  "B": (b, n, n), "D": (b, n), "best_x": (b, n)}  # fmt: skip
        arrays = {k: _state_dict.finite_array(state, k, shape) for k, shape in finite.items()}
        best_f = _state_dict.array(state, "best_f", (b,), np.float64)
        stopped = _state_dict.array(state, "stopped", (b,), bool)
        if best_f is None or np.isnan(best_f).any() or stopped is None:
            raise ValidationError(f"state best_f and stopped must be ({b},) arrays")
        arrays |= {"best_f": best_f, "stopped": stopped}
        if not ((arrays["D"] > 0).all() and (arrays["sigma"] > 0).all()):
            raise ValidationError("state D and sigma must be positive")
        counters = _state_dict.counters(state, "generation", "nfev", "decomposed_at")
        if counters[2] > counters[0]:
            raise ValidationError("state decomposed_at must not pass generation")
        for key, a in arrays.items():
            setattr(self, key, self.xp.asarray(a))
        self.generation, self.nfev, self._decomposed_at = counters
        self._pending = None


def box_map(xp: Any, G: Any, low: Any, high: Any, al: Any, au: Any) -> Any:
    """The box transform of ``es.box_transform`` in array operations of ``xp`` (for arrays the
    kernel cannot read, such as CuPy's): the identity on ``[low + al, high - au]``, a
    reflection into one period ``[low - al, high + au]`` and a quadratic bend within ``al``
    (``au``) of a bound elsewhere; the same IEEE operations as the kernel (the same doubles
    wherever the module rounds them correctly, as NumPy and CUDA do)."""
    a = low - al
    r = high + au - a
    p, t = 2 * r, G - a
    # (G - a) mod 2r as the kernel takes it: one addition within a period of [0, 2r) (exact),
    # fmod beyond (libraries' own mod may round otherwise: CuPy's is t - floor(t / p) p)
    far = xp.fmod(t, p)
    far = xp.where(far < 0, far + p, far)
    near = (t >= -p) & (t < 2 * p)
    y = xp.where(near, xp.where(t >= p, t - p, xp.where(t < 0, t + p, t)), far)
    y = a + xp.where(y > r, 2 * r - y, y)
    y = xp.where(y < low + al, low + (y - a) * (y - a) * (1 / (4 * al)), y)
    y = xp.where(y > high - au, high - (y - high - au) * (y - high - au) * (1 / (4 * au)), y)
    y = xp.minimum(xp.maximum(y, low), high)
    return xp.where((low + al <= G) & (high - au >= G), G, y)

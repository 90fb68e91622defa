"""Adaptive differential evolution on the optimizer protocol: L-SHADE and jSO.

One generation, top-down (``ask`` then ``tell``):

1. parameters: each individual ``i`` picks a slot ``r`` of the success-history memory and
   draws ``CR ~ N(M_CR[r], 0.1)`` clipped to [0, 1] (0 when ``M_CR[r]`` is the terminal value
   ⊥) and ``F ~ Cauchy(M_F[r], 0.1)``, redrawn while <= 0 and cut at 1;
2. mutation: current-to-pbest/1 ``v = x_i + Fw (x_pbest - x_i) + F (x_r1 - x_r2)`` (``Fw = F``
   except in jSO), pbest among the best ``max(2, round(p N))``, ``r1`` from the population and
   ``r2`` from the population and the external archive; or rand/1 ``v = x_r0 + F (x_r1 -
   x_r2)``; a mutant gene outside the box moves halfway from its target's gene to the bound;
3. crossover: binomial, gene ``j_rand`` always from the mutant; ``ask`` returns the trials;
4. selection: a trial replaces its target when not worse; the parents it strictly beats go
   to the archive (random members removed past ``round(archive_rate N)``), and their F and
   CR update memory slot ``k`` (cycling) by weighted Lehmer means, weights ``|df| / sum |df|``;
5. linear population size reduction: ``N = round((N_min - N_init) / max_evals * nfev +
   N_init)``, the worst individuals removed.

Every random number comes from the counter-based streams (``docs/kernels.md`` lists the
purposes), per individual and generation, so that a checkpoint taken anywhere resumes bit for
bit and the numbers do not depend on the backend:

- the initial population is the GA's: row ``i`` is ``low + uniform() (high - low)`` from
  ``Stream(seed, 0, i, INIT)``, as ``init_uniform``;
- trial generation ``g`` (from 1: generation 0 is the initial population) draws for
  individual ``i`` the uniforms ``u0, u1, ...`` of ``Stream(seed, g, i, DE_PARAMETERS)``:
  ``r = below(u0, H)``; ``CR = M_CR[r] + 0.1 sqrt(-2 ln(1 - u1)) cos(2 pi u2)``; ``u3`` the
  pbest rank ``below(u3, n_pbest)`` (rand/1: ``r0``); ``u4`` ``r1``; ``u5`` ``r2``; ``u6,
  u7, ...`` the F tries ``M_F[r] + 0.1 tan(pi (u - 0.5))``, the first > 0 taken. Here
  ``below(u, n) = min(floor(u n), n - 1)``, and a donor drawn among ``n - m`` rows skips the
  ``m`` rows it must differ from (in increasing order: ``k += k >= e``);
- its crossover uniforms come from ``Stream(seed, g, i, DE_CROSSOVER)``: ``j_rand = below(u0,
  D)``, gene ``j`` from the mutant when ``u_{1+j} < CR``;
- the archive's random removal after generation ``g``'s selection draws one uniform a member
  from ``Stream(seed, g, GENERATION_ROW, DE_PARAMETERS)``; the members with the smallest keys
  stay (ties by row), in their order.
"""

from __future__ import annotations

import inspect
import math
from abc import abstractmethod
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .. import _backend, _state_dict
from .._errors import ValidationError
from .._validate import MAX_COUNT, choice, integer, real
from ..optimizer import Optimizer, Survival

# Philox purposes (docs/kernels.md lists them).
DE_PARAMETERS, DE_CROSSOVER = 11, 12
#: The ``individual`` of a generation's own stream (no individual has this row: pop_size is
#: below 2**31).
GENERATION_ROW = 2**32 - 1
#: The mutation strategies.
STRATEGIES = ("current-to-pbest/1", "rand/1")
#: F tries drawn with the other parameters; an individual that needs more reads on.
F_TRIES = 8
_FIRST_F_TRY = 6  # u0..u5: slot, CR (two), pbest or r0, r1, r2


def round_half_up(x: float) -> int:
    """C's ``round`` for the non-negative sizes the papers round (Python's rounds half to even)."""
    return math.floor(x + 0.5)


def below(u: np.ndarray, n: Any) -> np.ndarray:
    """Integers in ``[0, n)`` from uniforms in ``[0, 1)`` (``u n`` may round up to ``n``)."""
    return np.minimum(np.floor(u * n).astype(np.int64), np.asarray(n, dtype=np.int64) - 1)


def skipping(k: np.ndarray, *excluded: np.ndarray) -> np.ndarray:
    """``k`` drawn among ``n - m`` rows mapped onto the ``n`` rows less the ``m`` ``excluded``
    ones (distinct in each row): each exclusion, in increasing order, shifts what lies at or
    past it."""
    for e in np.sort(np.stack(excluded), axis=0):
        k = k + (k >= e)
    return k


class AdaptiveDE(Optimizer):
    """Differential evolution with success-history parameter adaptation, an external archive
    and linear population size reduction (see :mod:`chimera.strategies.differential`).

    Parameters
    ----------
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene; what ``ask()`` returns always lies within them.
    pop_size : int, optional
        The initial population (N_init); default the paper's for ``dim``. It shrinks linearly
        to ``min_pop_size`` over ``max_evals``: ``pop_size`` is then the current one.
    min_pop_size : int
        The population the reduction ends at (N_min), at least 4.
    seed : int, optional
        Seed of the counter-based streams; the same seed gives the same run on any backend and
        after any number of checkpoints and resumes.
    max_evals : int, optional
        The evaluation budget the schedules are planned over (the population size reduction,
        and jSO's p, F and CR schedules); default ``10000 * dim``, as the CEC benchmarks.
        ``chimera.minimize`` passes its own ``max_evals``. Once spent, ``stop_reason`` says
        so; asked on, the optimizer goes on at ``min_pop_size``.
    memory_size : int
        Slots of the success-history memory of F and CR (H).
    archive_rate : float
        The external archive holds up to ``round(archive_rate * pop_size)`` parents that a
        trial beat; 0 keeps none.
    p : float
        Greediness of current-to-pbest/1: pbest is drawn among the best ``max(2, round(p N))``.
    strategy : {"current-to-pbest/1", "rand/1"}
        The mutation: current-to-pbest/1 with the archive, or the classic DE/rand/1
        (``x_r0 + F (x_r1 - x_r2)``, ``r2`` from the population and the archive).
    maximize : bool
        Maximise the objective instead of minimising it.
    nan_policy : {"raise", "worst"}
        NaN or infinite values raise (naming the individuals) or count as the worst.
    backend : {"auto", "cpp", "numba"}
        Whose Philox streams draw the random numbers (the same numbers on both); the vector
        work is NumPy's on every backend.
    """

    resizes = True
    backends = ("cpp", "numba")
    #: The memory's initial F and CR.
    initial_memory: ClassVar[tuple[float, float]] = (0.5, 0.5)
    #: A last memory slot that never learns, at (F, CR) (jSO's 0.9, 0.9); None for none.
    fixed_slot: ClassVar[tuple[float, float] | None] = None

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int | None,
        min_pop_size: int,
        seed: int | None,
        max_evals: int | None,
        memory_size: int,
        archive_rate: float,
        p: float,
        strategy: str,
        maximize: bool,
        nan_policy: str,
        backend: str,
    ) -> None:
        dim = np.shape(bounds)[0] if np.ndim(bounds) == 2 else None
        n_init = self.population_size({"pop_size": pop_size, "min_pop_size": min_pop_size},
                                      1, dim)  # fmt: skip
        super().__init__(bounds, pop_size=n_init, seed=seed, dtype="float64", maximize=maximize,
                         nan_policy=nan_policy, backend=backend)  # fmt: skip
        self._rng = _streams(self.backend)
        _, self._ga_kernels = _backend.resolve(self.backend)  # the initial population's
        self.min_pop_size = integer(min_pop_size, "min_pop_size", 4, n_init)
        self.max_evals = (10_000 * self.dim if max_evals is None
                          else integer(max_evals, "max_evals", 1, MAX_COUNT))  # fmt: skip
        fixed = self.fixed_slot is not None
        self.memory_size = integer(memory_size, "memory_size", 2 if fixed else 1, 10**6)
        self.archive_rate = real(archive_rate, "archive_rate", 0.0, 100.0)
        self.p = real(p, "p", 0.0, 1.0, open_low=True)
        self.strategy = choice(strategy, "strategy", STRATEGIES)
        f0, cr0 = self.initial_memory
        self.memory_f = np.full(self.memory_size, f0)
        self.memory_cr = np.full(self.memory_size, cr0)  # NaN is the terminal value
        if self.fixed_slot is not None:
            self.memory_f[-1], self.memory_cr[-1] = self.fixed_slot
        self.memory_slot = 0  # the slot the next successful generation writes
        self.archive = np.zeros((0, self.dim))
        self._trial_f: np.ndarray | None = None  # the pending trials' F and CR
        self._trial_cr: np.ndarray | None = None

    # what L-SHADE and jSO do differently ----------------------------------------------------

    @staticmethod
    @abstractmethod
    def default_pop_size(dim: int) -> int:
        """The paper's initial population for ``dim`` genes (each subclass has its own)."""

    def _pbest_rate(self, progress: float) -> float:
        """p after ``progress`` (evaluations spent / ``max_evals``)."""
        return self.p

    def _schedule(self, F: np.ndarray, CR: np.ndarray,
                  progress: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """F, CR and the pbest weight Fw after the budget schedules."""
        return F, CR, F

    def _learn(self, old: float, mean: float) -> float:
        """A memory slot's new value from its old one and the successes' Lehmer mean."""
        return mean

    @property
    def _learning_slots(self) -> int:
        return self.memory_size - (self.fixed_slot is not None)

    # ask / tell -----------------------------------------------------------------------------

    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self._pop is None:
            X = np.empty((self.pop_size, self.dim))
            self._ga_kernels.init_uniform(X, self.low, self.high, self.seed)
            return X, None
        assert self._F is not None
        X, f = self._pop, self._F[:, 0]
        N, D, g = X.shape[0], self.dim, self.generation
        A = self.archive.shape[0]
        progress = self.nfev / self.max_evals
        U = self._uniforms(g, DE_PARAMETERS, N, _FIRST_F_TRY + F_TRIES)
        rows = np.arange(N)
        slot = below(U[:, 0], self.memory_size)
        mu_cr = self.memory_cr[slot]
        normal = np.sqrt(-2.0 * np.log(1.0 - U[:, 1])) * np.cos(2.0 * np.pi * U[:, 2])
        CR = np.where(np.isnan(mu_cr), 0.0, np.clip(mu_cr + 0.1 * normal, 0.0, 1.0))
        F = self._scale_factors(U, self.memory_f[slot], g)
        F, CR, Fw = self._schedule(F, CR, progress)
        union = np.concatenate([X, self.archive]) if A else X
        if self.strategy == "current-to-pbest/1":
            n_best = max(2, round_half_up(self._pbest_rate(progress) * N))
            guide = np.argsort(f, kind="stable")[below(U[:, 3], min(n_best, N))]
            r1 = skipping(below(U[:, 4], N - 1), rows)
            r2 = skipping(below(U[:, 5], N + A - 2), rows, r1)
            V = X + Fw[:, None] * (X[guide] - X) + F[:, None] * (X[r1] - union[r2])
        else:
            guide = skipping(below(U[:, 3], N - 1), rows)  # r0
            r1 = skipping(below(U[:, 4], N - 2), rows, guide)
            r2 = skipping(below(U[:, 5], N + A - 3), rows, guide, r1)
            V = X[guide] + F[:, None] * (X[r1] - union[r2])
        V = np.where(self.low > V, (self.low + X) / 2, V)
        V = np.where(self.high < V, (self.high + X) / 2, V)
        C = self._uniforms(g, DE_CROSSOVER, N, D + 1)
        take = C[:, 1:] < CR[:, None]
        take[rows, below(C[:, 0], D)] = True
        self._trial_f, self._trial_cr = F, CR
        parents = np.stack([rows, guide], axis=1).astype(np.int32)
        return np.where(take, V, X), parents

    def _uniforms(self, generation: int, purpose: int, n: int, k: int) -> np.ndarray:
        """Row i: the first ``k`` uniforms of Stream(seed, generation, i, purpose)."""
        return np.asarray(self._rng.uniform_rows(self.seed, generation, purpose, n, k))

    def _scale_factors(self, U: np.ndarray, mu_f: np.ndarray, g: int) -> np.ndarray:
        """Each row's first positive ``mu_f + 0.1 tan(pi (u - 0.5))`` over its F tries, cut at
        1; the few rows whose prefetched tries all fail read further along their stream."""
        tries = mu_f[:, None] + 0.1 * np.tan(np.pi * (U[:, _FIRST_F_TRY:] - 0.5))
        positive = tries > 0.0
        F = tries[np.arange(U.shape[0]), positive.argmax(axis=1)]
        for i in np.flatnonzero(~positive.any(axis=1)):
            k = U.shape[1]
            while True:
                k *= 2
                u = self._rng.uniform(self.seed, g, int(i), DE_PARAMETERS, k)[_FIRST_F_TRY:]
                t = mu_f[i] + 0.1 * np.tan(np.pi * (u - 0.5))
                if (t > 0.0).any():
                    F[i] = t[np.argmax(t > 0.0)]
                    break
        return np.minimum(F, 1.0)

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        if self._pop is None or self._F is None or self._cv is None:  # the initial population
            return Survival(X, F, cv, np.arange(X.shape[0], 2 * X.shape[0]))
        assert self._trial_f is not None and self._trial_cr is not None
        f_old, f_new = self._F[:, 0], F[:, 0]
        replace = f_new <= f_old
        better = f_new < f_old
        archive = np.concatenate([self.archive, self._pop[better]])
        self._update_memory(self._trial_f[better], self._trial_cr[better],
                            f_old[better] - f_new[better])  # fmt: skip
        pop = np.where(replace[:, None], X, self._pop)
        fit = np.where(replace[:, None], F, self._F)
        cv = np.where(replace, cv, self._cv)
        survivors = np.where(replace, X.shape[0] + np.arange(X.shape[0]), np.arange(X.shape[0]))
        n = self.next_pop_size(self.nfev + X.shape[0], X.shape[0])
        if n < X.shape[0]:
            keep = np.sort(np.argsort(fit[:, 0], kind="stable")[:n])
            pop, fit, cv, survivors = pop[keep], fit[keep], cv[keep], survivors[keep]
        self.archive = self._trimmed(archive, round_half_up(self.archive_rate * n))
        self.pop_size = n
        self._trial_f = self._trial_cr = None
        return Survival(pop, fit, cv, survivors)

    def next_pop_size(self, nfev: int, current: int) -> int:
        """The linear reduction's population after ``nfev`` evaluations (never larger than
        ``current``, never below ``min_pop_size``)."""
        n_init, n_min = self._initial_pop_size, self.min_pop_size
        planned = round_half_up((n_min - n_init) / self.max_evals * nfev + n_init)
        return min(current, max(n_min, planned))

    def _update_memory(self, SF: np.ndarray, SCR: np.ndarray, df: np.ndarray) -> None:
        """Slot ``memory_slot`` learns the weighted Lehmer means of the successful F and CR;
        CR's slot turns terminal (for good) when every successful CR was 0."""
        if SF.size == 0:
            return
        if np.isinf(df).any():  # beat an infinite value: those successes alone count
            df = np.isinf(df).astype(np.float64)
        d = df / df.max()  # the weights' ratios, without overflowing their sum
        w = d / d.sum()
        k = self.memory_slot
        self.memory_f[k] = self._learn(self.memory_f[k], _lehmer(w, SF))
        if np.isnan(self.memory_cr[k]) or SCR.max() == 0.0:
            self.memory_cr[k] = np.nan
        else:
            self.memory_cr[k] = self._learn(self.memory_cr[k], _lehmer(w, SCR))
        self.memory_slot = (k + 1) % self._learning_slots

    def _trimmed(self, archive: np.ndarray, cap: int) -> np.ndarray:
        """At most ``cap`` members, the removed ones at random."""
        m = archive.shape[0]
        if m <= cap:
            return archive
        key = self._rng.uniform(self.seed, self.generation, GENERATION_ROW, DE_PARAMETERS, m)
        return archive[np.sort(np.argsort(key, kind="stable")[:cap])]

    @property
    def stop_reason(self) -> str | None:
        if self.nfev >= self.max_evals:
            return (f"max_evals={self.max_evals} spent: the schedules are over (the population "
                    f"is at its final {self.pop_size})")  # fmt: skip
        return None

    # checkpoints --------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        return {"min_pop_size": self.min_pop_size, "max_evals": self.max_evals,
                "memory_size": self.memory_size, "archive_rate": self.archive_rate,
                "p": self.p, "strategy": self.strategy, "maximize": self.maximize}  # fmt: skip

    def _state(self) -> dict[str, Any]:
        copy = _state_dict.copy
        return {**super()._state(), "memory_f": self.memory_f.copy(),
                "memory_cr": self.memory_cr.copy(), "memory_slot": self.memory_slot,
                "archive": self.archive.copy(), "trial_f": copy(self._trial_f),
                "trial_cr": copy(self._trial_cr)}  # fmt: skip

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        F, cv, _ = super()._load_state(state, n)
        name = type(self).__name__
        (pop_size,) = _state_dict.counters(state, "pop_size")
        if pop_size != n or not self.min_pop_size <= n <= self._initial_pop_size:
            raise ValidationError(f"{name} checkpoint's pop_size {pop_size} must match its "
                                  f"population and lie in [{self.min_pop_size}, "
                                  f"{self._initial_pop_size}]")  # fmt: skip
        H = self.memory_size
        mf = _state_dict.array(state, "memory_f", (H,), np.float64)
        mcr = _state_dict.array(state, "memory_cr", (H,), np.float64)
        if mf is None or mcr is None or not (np.isfinite(mf) & (mf > 0)).all():
            raise ValidationError(f"{name} checkpoint's memory_f must be {H} positive numbers")
        if not (np.isnan(mcr) | (np.isfinite(mcr) & (mcr >= 0))).all():
            raise ValidationError(f"{name} checkpoint's memory_cr must be {H} numbers >= 0 or "
                                  "NaN (terminal)")  # fmt: skip
        if self.fixed_slot is not None and (mf[-1], mcr[-1]) != self.fixed_slot:
            raise ValidationError(f"{name} checkpoint's last memory slot must be "
                                  f"{self.fixed_slot}")  # fmt: skip
        (slot,) = _state_dict.counters(state, "memory_slot")
        if slot >= self._learning_slots:
            raise ValidationError(f"{name} checkpoint's memory_slot must be below "
                                  f"{self._learning_slots}")  # fmt: skip
        rows = _state_dict.rows(state.get("archive"))
        archive = _state_dict.array(state, "archive", (rows, self.dim), np.float64)
        cap = round_half_up(self.archive_rate * n)
        inside = archive is not None and ((self.low <= archive) & (archive <= self.high)).all()
        if not inside or rows > cap:
            raise ValidationError(f"{name} checkpoint's archive must be at most {cap} genomes "
                                  "in the bounds")  # fmt: skip
        tf = _state_dict.array(state, "trial_f", (n,), np.float64)
        tcr = _state_dict.array(state, "trial_cr", (n,), np.float64)
        pending = state.get("pending") is not None and F is not None
        if (tf is None) != (tcr is None) or (tf is None) == pending:
            raise ValidationError(f"{name} checkpoint's trial_f and trial_cr must be there "
                                  "exactly when trials are pending")  # fmt: skip
        return F, cv, (mf, mcr, slot, archive, tf, tcr)

    def _apply_state(self, extra: Any) -> None:
        self.memory_f, self.memory_cr, self.memory_slot, self.archive = extra[:4]
        self._trial_f, self._trial_cr = extra[4:]

    # planning -----------------------------------------------------------------------------

    @classmethod
    def population_size(cls, options: Mapping[str, Any], n_obj: int = 1,
                        dim: int | None = None) -> int:  # fmt: skip
        """The initial population: ``pop_size`` if given, else the paper's for ``dim`` (at
        least ``min_pop_size``)."""
        n_min = options.get("min_pop_size")
        if n_min is None:
            n_min = inspect.signature(cls).parameters["min_pop_size"].default
        n_min = integer(n_min, "min_pop_size", 4, 2**31 - 1)
        if options.get("pop_size") is not None:
            n = integer(options["pop_size"], "pop_size", 4, 2**31 - 1)
            if n < n_min:
                raise ValidationError(f"pop_size {n} is below min_pop_size {n_min}: the "
                                      "population only shrinks; lower min_pop_size")  # fmt: skip
            return n
        if dim is None:
            raise ValidationError(f"{cls.__name__}'s default pop_size follows from the "
                                  "dimension: give the bounds, or pop_size")  # fmt: skip
        return max(n_min, cls.default_pop_size(integer(dim, "dim", 1, 2**31 - 1)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(dim={self.dim}, pop_size={self.pop_size}, "
                f"strategy={self.strategy!r}, archive={self.archive.shape[0]}, "
                f"nfev={self.nfev}/{self.max_evals}, generation={self.generation})")  # fmt: skip


class LSHADE(AdaptiveDE):
    """L-SHADE (Tanabe and Fukunaga, CEC 2014): SHADE's success-history adaptation of F and CR
    with linear population size reduction from ``18 dim`` to 4.

    Parameters
    ----------
    pop_size : int, optional
        The initial population (N_init); default ``round(18 dim)``. It shrinks linearly to
        ``min_pop_size`` over ``max_evals``: ``pop_size`` is then the current one.
    memory_size : int
        Slots of the success-history memory of F and CR (H), all starting at 0.5.
    archive_rate : float
        The external archive holds up to ``round(archive_rate * pop_size)`` parents that a
        trial beat (2.6 in the paper); 0 keeps none.
    p : float
        Greediness of current-to-pbest/1: pbest is drawn among the best ``max(2, round(p N))``.
    """

    _FORMAT = "chimera.LSHADE/1"

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int | None = None,
        min_pop_size: int = 4,
        seed: int | None = None,
        max_evals: int | None = None,
        memory_size: int = 6,
        archive_rate: float = 2.6,
        p: float = 0.11,
        strategy: str = "current-to-pbest/1",
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        super().__init__(bounds, pop_size=pop_size, min_pop_size=min_pop_size, seed=seed,
                         max_evals=max_evals, memory_size=memory_size,
                         archive_rate=archive_rate, p=p, strategy=strategy, maximize=maximize,
                         nan_policy=nan_policy, backend=backend)  # fmt: skip

    @staticmethod
    def default_pop_size(dim: int) -> int:
        return round_half_up(18 * dim)


class JSO(AdaptiveDE):
    """jSO (Brest, Maučec and Bošković, CEC 2017): L-SHADE with a fixed memory slot at 0.9,
    memory updates averaged with the old value, the pbest weight ``Fw`` (0.7 F before 20 % of
    ``max_evals``, 0.8 F before 40 %, then 1.2 F), F at most 0.7 before 60 %, CR at least 0.7
    before 25 % and 0.6 before 50 %, and p falling linearly to half its start.

    Parameters
    ----------
    pop_size : int, optional
        The initial population (N_init); default ``round(25 ln(dim) sqrt(dim))`` (at least
        ``min_pop_size``). It shrinks linearly to ``min_pop_size`` over ``max_evals``:
        ``pop_size`` is then the current one.
    memory_size : int
        Slots of the success-history memory (H), F starting at 0.3 and CR at 0.8; the last
        slot stays at F = CR = 0.9.
    archive_rate : float
        The external archive holds up to ``round(archive_rate * pop_size)`` parents that a
        trial beat (1.0 in the paper); 0 keeps none.
    p : float
        Greediness of current-to-pbest/1 at the start: pbest is drawn among the best
        ``max(2, round(p N))``, p falling linearly to ``p / 2`` over ``max_evals``.
    """

    _FORMAT = "chimera.JSO/1"
    initial_memory = (0.3, 0.8)
    fixed_slot = (0.9, 0.9)

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int | None = None,
        min_pop_size: int = 4,
        seed: int | None = None,
        max_evals: int | None = None,
        memory_size: int = 5,
        archive_rate: float = 1.0,
        p: float = 0.25,
        strategy: str = "current-to-pbest/1",
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        super().__init__(bounds, pop_size=pop_size, min_pop_size=min_pop_size, seed=seed,
                         max_evals=max_evals, memory_size=memory_size,
                         archive_rate=archive_rate, p=p, strategy=strategy, maximize=maximize,
                         nan_policy=nan_policy, backend=backend)  # fmt: skip

    @staticmethod
    def default_pop_size(dim: int) -> int:
        return round_half_up(25 * math.log(dim) * math.sqrt(dim))

    def _pbest_rate(self, progress: float) -> float:
        return self.p * (1 - 0.5 * min(progress, 1.0))

    def _schedule(self, F: np.ndarray, CR: np.ndarray,
                  progress: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        if progress < 0.25:
            CR = np.maximum(CR, 0.7)
        elif progress < 0.5:
            CR = np.maximum(CR, 0.6)
        if progress < 0.6:
            F = np.minimum(F, 0.7)
        weight = 0.7 if progress < 0.2 else 0.8 if progress < 0.4 else 1.2
        return F, CR, weight * F

    def _learn(self, old: float, mean: float) -> float:
        return (old + mean) / 2


def _lehmer(w: np.ndarray, S: np.ndarray) -> float:
    """The weighted Lehmer mean ``sum w S^2 / sum w S`` (0 when the weighted sum is: only
    weights too small to count sit on non-zero values)."""
    den = float(w @ S)
    return float(w @ (S * S)) / den if den > 0.0 else 0.0


def _streams(backend: str) -> ModuleType:
    """The backend's Philox stream functions (the same numbers from each)."""
    if backend == "numba":
        from .._numba import rng as numba_rng

        return numba_rng
    from .._core import rng

    return rng

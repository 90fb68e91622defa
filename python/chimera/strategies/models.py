"""The search distributions of the evolution strategies: how a standard normal sample ``z``
becomes a step ``y`` (``x = mean + sigma * y``) and how the distribution learns from the
ranked steps. The strategy (:mod:`chimera.strategies.cmaes`) owns the mean, the step size and
its path; a model owns the shape.

- :class:`FullCovariance`: CMA-ES, ``C = B D^2 B^T`` with rank-one and (active) rank-mu updates
  and a lazy eigendecomposition: O(n^2) work a generation amortised, not an ``eigh`` every one.
- :class:`DiagonalCovariance`: sep-CMA-ES (Ros and Hansen 2008), O(n) a sample.
- :class:`LimitedMemory`: LM-MA-ES (Loshchilov, Glasmachers and Beyer 2018), ``m`` direction
  vectors in place of C: O(m n) memory and work a sample, for thousands of genes.

A model is made from the run's parameters, the genes' initial standard deviations and the
backend's ``es`` kernels (the limited-memory model runs its products there; the others leave
their matrix work to BLAS). ``state()`` returns the arrays a checkpoint holds; ``load(state)``
checks them and returns a function that assigns them, so that a refused checkpoint changes
nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.linalg import blas
from scipy.linalg.lapack import dsyevd as _syevd

from .. import _state_dict
from .._errors import ValidationError
from .parameters import Parameters, default_pop_size

#: The eigendecomposition waits ``1 / (LAG * n * (c1 + cmu))`` generations (at least one):
#: C moves by about ``c1 + cmu`` a generation, so B and D stay accurate to ``1 / (LAG n)``.
#: pycma waits a tenth of that (LAG = 10). Measured on the rotated ellipsoid (condition 1e6)
#: and Rosenbrock at n = 20 and 50 (3 seeds, evaluations to 1e-8), LAG = 1 needed as many
#: evaluations as 10 and 3 and cost 40 % less time (benchmarks/results/2026-12-07-strategies.md).
LAG = 1.0
#: Below this dimension the lag is that of this dimension: at n = 2 and 3 the rule allowed B
#: and D to drift by half and a third of C, the active update's Mahalanobis lengths went stale,
#: and C turned indefinite in 29 and 24 of 40 runs on the ellipsoid (17 and 25 of 40 on
#: Rosenbrock); decomposing every generation there (a 2x2 or 3x3 eigh) none.
LAG_MIN_DIM = 10


def decomposition_gap(p: Parameters) -> float:
    """Generations between eigendecompositions: ``1 / (LAG max(n, LAG_MIN_DIM) (c1 + cmu))``,
    at least one."""
    return max(1.0, 1.0 / (LAG * max(p.dim, LAG_MIN_DIM) * (p.c1 + p.cmu)))


def floored_eigenvalues(d2: Any, xp: Any = np) -> Any:
    """Eigenvalues (ascending along the last axis) floored at 1e-20 times the largest, or
    1e-300 when that is not positive: rounding can leave one at or below zero when C is
    ill-conditioned (the conditioncov criterion ends such a run long before it matters)."""
    top = d2[..., -1:]
    return xp.maximum(d2, xp.where(top > 0, top * 1e-20, 1e-300))


class FullCovariance:
    """A full covariance matrix ``C`` (initially ``diag(stds^2)``), its eigendecomposition
    ``B diag(D^2) B^T`` refreshed lazily, and the evolution path ``pc``."""

    name = "full"
    injects = True

    def __init__(self, p: Parameters, stds: np.ndarray, kernels: Any) -> None:
        n = p.dim
        self.p = p
        self.C = np.diag(stds**2)
        self.B = np.eye(n)
        self.D = stds.copy()
        self._axis_ratio = float(self.D.max() / self.D.min())
        self.pc = np.zeros(n)
        self.decomposed_at = 0
        self.gap = decomposition_gap(p)

    def prepare(self, t: int) -> None:
        """Refreshes B and D when C has moved enough since the last decomposition."""
        if t - self.decomposed_at < self.gap:
            return
        # LAPACK reads the upper triangle only: rounding in the updates' other half is moot.
        d2, B, info = _syevd(self.C, compute_v=1, lower=0, overwrite_a=0)
        if info != 0 or not np.isfinite(d2).all():
            raise FloatingPointError(f"the covariance's eigendecomposition failed (info={info})")
        d2 = floored_eigenvalues(d2)
        # C order, as a checkpoint restores it: BLAS may round differently by memory layout.
        self.B, self.D = np.ascontiguousarray(B), np.sqrt(d2)
        self.decomposed_at = t
        self._axis_ratio = float(self.D.max() / self.D.min())

    def sample(self, Z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The steps ``B D z`` of the samples Z, into ``out``."""
        return np.matmul(Z * self.D, self.B.T, out=out)

    def whiten(self, Y: np.ndarray) -> np.ndarray:
        """``C^-1/2 y`` per row (rows of an injected step): what ``sample`` would have taken."""
        return Y @ self.B / self.D

    def rotate(self, z: np.ndarray) -> np.ndarray:
        """``C^-1/2 y`` of a step ``y`` sampled from ``z``: ``B z``."""
        return self.B @ z

    def adapt(self, Y: np.ndarray, Z: np.ndarray, w: np.ndarray, y_w: np.ndarray,
              z_w: np.ndarray, hsig: bool) -> None:  # fmt: skip
        """Rank-one update from the path ``pc`` and (active) rank-mu update from the steps
        ``Y`` (sorted best first, their samples ``Z``, their weights ``w``)."""
        p = self.p
        decay, wc = _covariance_step(p, self.pc, y_w, hsig, w, Z)
        self.C *= decay
        blas.dger(p.c1, self.pc, self.pc, a=self.C.T, overwrite_a=True)  # += c1 pc pc^T in place
        self.C += p.cmu * ((Y.T * wc) @ Y)

    def stds(self) -> np.ndarray:
        """``sqrt(diag C)``: each coordinate's standard deviation in units of sigma."""
        return np.sqrt(np.diag(self.C))

    def axis_ratio(self) -> float:
        """sqrt of C's condition number, as of the last decomposition (D changes only there)."""
        return self._axis_ratio

    def sigma_factor(self, norm2: float) -> float:
        return _csa(self.p, norm2)

    def principal_axis(self, i: int) -> np.ndarray:
        """The ``i``-th principal axis scaled by its standard deviation, ``D_i B[:, i]`` (the
        full model alone has axes: the noeffectaxis criterion's)."""
        return self.D[i] * self.B[:, i]

    def state(self) -> dict[str, Any]:
        return {"C": self.C.copy(), "B": self.B.copy(), "D": self.D.copy(),
                "pc": self.pc.copy(), "decomposed_at": self.decomposed_at}  # fmt: skip

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        n = self.p.dim
        C, B, D, pc = (_state_dict.finite_array(state, k, s) for k, s in (("C", (n, n)), ("B", (n, n)),
                                                        ("D", (n,)), ("pc", (n,))))  # fmt: skip
        C = np.require(C, requirements=["C", "W"])  # BLAS updates it in place
        (at,) = _state_dict.counters(state, "decomposed_at")
        if not (D > 0).all():
            raise ValidationError("checkpoint D must be positive")

        def apply() -> None:
            self.C, self.B, self.D, self.pc, self.decomposed_at = C, B, D, pc, at
            self._axis_ratio = float(D.max() / D.min())

        return apply


class DiagonalCovariance:
    """A diagonal covariance ``diag(D^2)`` (sep-CMA-ES) and its path ``pc``: no decomposition,
    O(n) a sample and an update."""

    name = "diagonal"
    injects = True

    def __init__(self, p: Parameters, stds: np.ndarray, kernels: Any) -> None:
        self.p = p
        self.D = stds.copy()
        self.pc = np.zeros(p.dim)

    def prepare(self, t: int) -> None:
        """Nothing to refresh: no decomposition."""

    def sample(self, Z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(Z, self.D, out=out)

    def whiten(self, Y: np.ndarray) -> np.ndarray:
        return Y / self.D

    def rotate(self, z: np.ndarray) -> np.ndarray:
        return z

    def adapt(self, Y: np.ndarray, Z: np.ndarray, w: np.ndarray, y_w: np.ndarray,
              z_w: np.ndarray, hsig: bool) -> None:  # fmt: skip
        p = self.p
        decay, wc = _covariance_step(p, self.pc, y_w, hsig, w, Z)
        c = self.D**2
        c *= decay
        c += p.c1 * self.pc**2 + p.cmu * (wc @ Y**2)
        self.D = np.sqrt(np.maximum(c, 1e-300))

    def stds(self) -> np.ndarray:
        return self.D

    def axis_ratio(self) -> float:
        return float(self.D.max() / self.D.min())

    def sigma_factor(self, norm2: float) -> float:
        return _csa(self.p, norm2)

    def state(self) -> dict[str, Any]:
        return {"D": self.D.copy(), "pc": self.pc.copy()}

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        n = self.p.dim
        D, pc = (
            _state_dict.finite_array(state, "D", (n,)),
            _state_dict.finite_array(state, "pc", (n,)),
        )
        if not (D > 0).all():
            raise ValidationError("checkpoint D must be positive")

        def apply() -> None:
            self.D, self.pc = D, pc

        return apply


class LimitedMemory:
    """LM-MA-ES: ``m = 4 + floor(3 ln n)`` direction vectors ``M_i`` learnt at rates
    ``lam / (n 4^i)``; a sample ``z`` becomes ``d`` by ``d <- (1 - c_i) d + c_i M_i (M_i . d)``
    with ``c_i = 1 / (n 1.5^i)``, i over the vectors learnt so far. No matrix is ever formed.
    Only its positive weights count (the method has no active update)."""

    name = "limited_memory"
    injects = False  # the transform has no cheap inverse (whiten)

    def __init__(self, p: Parameters, stds: np.ndarray, kernels: Any) -> None:
        n = p.dim
        self.p = p
        self.kernels = kernels
        self.stds0 = stds.copy()
        m = default_pop_size(n)  # the paper's m = 4 + floor(3 ln n), the default lambda's
        i = np.arange(m)
        self.c_d = 1.0 / (n * 1.5**i)
        self.c_c = np.minimum(1.0, p.candidates / (n * 4.0**i))
        self.M = np.zeros((m, n))
        self.gram = np.zeros((m, m))  # M M^T, kept up to date in O(m n) a generation
        self._scaled = bool((stds != 1).any())  # genes of unequal widths
        self.learnt = 0  # how many vectors have been updated at least once
        # adapt's constants: each vector's decay and learning rate, and the two as they act on
        # the Gram matrix
        self._decay = 1 - self.c_c
        self._rate = np.sqrt(p.mueff * self.c_c * (2 - self.c_c))
        self._decay2 = np.outer(self._decay, self._decay)
        self._rate2 = np.outer(self._rate, self._rate)
        # sample's constants for each number of learnt vectors (see _closed_form)
        self._factors: dict[int, tuple[np.ndarray, np.ndarray, float, np.ndarray]] = {}

    def prepare(self, t: int) -> None:
        """Nothing to refresh: no decomposition."""

    def sample(self, Z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The k transforms ``d <- (1 - c_i) d + c_i M_i (M_i . d)`` in closed form. With
        ``R[i, j] = prod_(j<l<i) (1 - c_l)`` and ``q_i = M_i . d`` before transform i, after
        them ``d = R[k, -1] z + sum_j c_j R[k, j] q_j M_j``, and ``q_i = R[i, -1] (M_i . z) +
        sum_(j<i) (M_i . M_j) c_j R[i, j] q_j``: one unit-triangular solve for all samples
        between two products that do the O(k n) work a sample: the kernels' ``dot_rows`` and
        ``add_combination``, whose doubles are defined (the backends agree) and which run these
        skinny shapes at twice BLAS's speed on an AVX-512 core. The same d as the k passes over
        it, up to rounding (a rate of 1, at n = 1, is fine)."""
        k = self.learnt
        if k == 0:
            return np.multiply(Z, self.stds0, out=out)
        M = self.M[:k]
        lower, on_q, on_z, on_m = self._closed_form(k)
        P = np.empty((Z.shape[0], k))
        self.kernels.dot_rows(P, Z, M)  # M_i . z for every sample
        # q (I - T^T) = P diag(R[:k, k]), T the Gram matrix times lower: solved for all samples
        # at once as (I - T) q^T = ..., by BLAS's triangular solve (unit diagonal)
        Q = blas.dtrsm(1.0, -(self.gram[:k, :k] * lower), (P * on_q).T, lower=1, diag=1,
                       overwrite_b=1).T  # fmt: skip
        # Y = R[k, k] Z + (Q diag(c R[k, :k])) M
        self.kernels.add_combination(out, on_z, Z, Q * on_m, M)
        if self._scaled:
            out *= self.stds0
        return out

    def _closed_form(self, k: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """sample's constants for k learnt vectors (fixed once all are): the strict lower
        triangle of ``R[i, j] c_j``, and the factors ``R[:k, k]`` on ``M_i . z``, ``R[k, k]``
        on z and ``c R[k, :k]`` on q."""
        if k not in self._factors:
            c = self.c_d[:k]
            R = _spans(1 - c)  # (k + 1, k + 1); column k: prod_(l<i), the factor on z itself
            self._factors[k] = (np.tril(R[:k, :k] * c, -1), R[:k, k].copy(), float(R[k, k]),
                                c * R[k, :k])  # fmt: skip
        return self._factors[k]

    def rotate(self, z: np.ndarray) -> np.ndarray:
        return z

    def adapt(self, Y: np.ndarray, Z: np.ndarray, w: np.ndarray, y_w: np.ndarray,
              z_w: np.ndarray, hsig: bool) -> None:  # fmt: skip
        # M <- diag(d) M + rate z_w^T, so M M^T <- d_i d_j G_ij + d_i v_i rate_j + rate_i d_j v_j
        # + |z_w|^2 rate_i rate_j with v = M z_w: O(m n), where forming M M^T is O(m^2 n).
        d, rate = self._decay, self._rate
        u = (d * (self.M @ z_w))[:, None] * rate
        self.gram *= self._decay2
        self.gram += u + u.T + float(z_w @ z_w) * self._rate2
        self.M *= d[:, None]
        blas.dger(1.0, z_w, rate, a=self.M.T, overwrite_a=True)  # M += rate z_w^T, in place
        self.learnt = min(self.learnt + 1, self.M.shape[0])

    def stds(self) -> np.ndarray:
        return self.stds0

    def axis_ratio(self) -> float:
        return 1.0

    def sigma_factor(self, norm2: float) -> float:
        """LM-MA-ES's rule: the path's squared length against n."""
        p = self.p
        return math.exp(min(1.0, p.cs / 2 * (norm2 / p.dim - 1)))

    def state(self) -> dict[str, Any]:
        return {"M": self.M.copy(), "gram": self.gram.copy(), "learnt": self.learnt}

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        M = np.require(
            _state_dict.finite_array(state, "M", self.M.shape), requirements=["C", "W"]
        )  # BLAS updates it
        gram = (
            M @ M.T
            if state.get("gram") is None  # a checkpoint from before it was kept
            else _state_dict.finite_array(state, "gram", self.gram.shape)
        )
        (learnt,) = _state_dict.counters(state, "learnt")
        if learnt > M.shape[0]:
            raise ValidationError(f"checkpoint learnt must be at most {M.shape[0]}")

        def apply() -> None:
            self.M, self.gram, self.learnt = M, gram, learnt

        return apply


Model = FullCovariance | DiagonalCovariance | LimitedMemory

#: The models by the name a strategy gives.
MODELS: dict[str, type[Model]] = {
    m.name: m for m in (FullCovariance, DiagonalCovariance, LimitedMemory)
}


def _covariance_step(p: Parameters, pc: np.ndarray, y_w: np.ndarray, hsig: bool, w: np.ndarray,
                     Z: np.ndarray) -> tuple[float, np.ndarray]:  # fmt: skip
    """Moves the path ``pc`` (in place; stalled while ``hsig`` is False) and returns the factor
    on the old covariance and the rank-mu weights: ``C <- decay C + c1 pc pc^T + cmu sum wc_i
    y_i y_i^T``, the stalled path's missing variance made up in ``decay`` (Hansen 2016, eq. 47)."""
    pc *= 1 - p.cc
    if hsig:
        pc += math.sqrt(p.cc * (2 - p.cc) * p.mueff) * y_w
    c1a = p.c1 * (1 - (1 - hsig) * p.cc * (2 - p.cc))
    return 1 - c1a - p.cmu * p.weight_sum, _active_weights(p, w, Z)


def _spans(keep: np.ndarray) -> np.ndarray:
    """``R[i, j] = prod_(j<l<i) keep_l`` for ``i, j <= k`` (k = keep.size), and ``R[i, k] =
    prod_(l<i) keep_l``: reverse cumulative products, no division."""
    k = keep.size
    before = np.arange(k)[None, :] < np.arange(k + 1)[:, None]  # l < i
    L = np.where(before, keep[None, :], 1.0)  # (k + 1, k)
    S = np.cumprod(L[:, ::-1], axis=1)[:, ::-1]  # S[i, j] = prod_(l >= j, l < i) keep_l
    R = np.ones((k + 1, k + 1))
    R[:, : k - 1] = S[:, 1:]  # l > j
    R[:, k] = S[:, 0]  # all l < i
    return R


def _csa(p: Parameters, norm2: float) -> float:
    """Cumulative step-size adaptation: sigma's factor from the path's squared length."""
    return math.exp(min(1.0, p.cs / p.damps * (math.sqrt(norm2) / p.chi_n - 1)))


def _active_weights(p: Parameters, w: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """The rank-mu weights of active CMA: a negative weight is scaled by ``n / ||z_i||^2``
    (``z_i = C^-1/2 y_i``) so that a long unlucky step cannot make C indefinite."""
    if w.size <= p.mu:  # no ranks beyond the positive ones: no active update
        return w
    tail = Z[p.mu :]  # the negative weights (and a zero one for odd lam: it stays 0)
    wc = w.copy()
    wc[p.mu :] = w[p.mu :] * p.dim / np.maximum(np.einsum("ij,ij->i", tail, tail), 1e-300)
    return wc

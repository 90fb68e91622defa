"""Numba twin of chimera._core.bandit: the same ``Bandit`` class (constructor, select, update,
arms, state) and the same decisions draw for draw (docs/kernels.md, "Bandits"). The
statistics live in NumPy arrays; decisions and updates are jitted; the argument checks and the
sliding window's history are plain Python, with the C++ binding's messages.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from .._errors import ArgumentTypeError, ValidationError
from .._validate import fits_in_memory
from . import beta_argmax
from ._jit import jit
from .rng import next_below, next_uniform, stream
from .variates import beta_many, normal

BANDIT = 6  # the Philox purpose of bandit decisions
TABLE_BATCH, TABLE_CHUNK = beta_argmax.TABLE_BATCH, beta_argmax.TABLE_CHUNK
TABLE_ARMS, TABLE_SHAPES = beta_argmax.TABLE_ARMS, beta_argmax.TABLE_SHAPES
beta_in_bucket, quantile_row = beta_argmax.beta_in_bucket_draws, beta_argmax.quantile_row
EPSILON_GREEDY, UCB1, THOMPSON_BETA, THOMPSON_GAUSSIAN, SOFTMAX, EXP3 = range(6)
# Positions of the parameters in the jitted kernels' parameter vector.
_EPSILON, _DECAY, _C, _ALPHA, _BETA, _SIGMA, _TEMPERATURE, _GAMMA = range(8)


@jit(inline=True)
def _decision_stream(seed: Any, k: Any) -> Any:
    """Decision k's stream: Stream(seed, k mod 2^32, k div 2^32, BANDIT)."""
    return stream(seed, np.uint32(k & np.uint64(0xFFFFFFFF)), np.uint32(k >> np.uint64(32)), BANDIT)


@jit()
def _exp3_probability(logw: Any, active: Any, count: int, gamma: float, i: int) -> float:
    top = -np.inf
    for a in range(logw.size):
        if active[a]:
            top = max(top, logw[a])
    total = 0.0
    for a in range(logw.size):
        if active[a]:
            total += math.exp(logw[a] - top)
    return (1.0 - gamma) * math.exp(logw[i] - top) / total + gamma / count


@jit()
def _decide(policy: int, p: Any, n: Any, s: Any, logw: Any, active: Any, seed: Any, k: Any,
            updates: Any, scratch: Any) -> int:  # fmt: skip
    arms = n.size
    count = 0
    for a in range(arms):
        count += active[a]
    if count == 0:
        return -1
    st = _decision_stream(seed, k)
    best, best_score = -1, -np.inf
    if policy == EPSILON_GREEDY:
        u, st = next_uniform(st)
        if u < p[_EPSILON] / (1.0 + p[_DECAY] * updates):
            i, st = next_below(st, count)
            for a in range(arms):
                if active[a]:
                    if i == 0:
                        return a
                    i -= 1
        for a in range(arms):
            if active[a]:
                m = s[a] / n[a] if n[a] > 0.0 else 0.0
                if best < 0 or m > best_score:
                    best, best_score = a, m
        return best
    if policy == UCB1:
        total = 0.0
        for a in range(arms):
            if active[a]:
                if n[a] <= 0.0:
                    return a
                total += n[a]
        log_total = math.log(total)
        for a in range(arms):
            if active[a]:
                score = s[a] / n[a] + math.sqrt(p[_C] * log_total / n[a])
                if best < 0 or score > best_score:
                    best, best_score = a, score
        return best
    if policy == THOMPSON_BETA:
        words, gammas, shape_a, shape_b, scores = scratch
        for a in range(arms):
            shape_a[a] = p[_ALPHA] + max(s[a], 0.0)
            shape_b[a] = p[_BETA] + max(n[a] - s[a], 0.0)
        beta_many(st, shape_a, shape_b, active, words, gammas, scores)
        for a in range(arms):
            if active[a] and (best < 0 or scores[a] > best_score):
                best, best_score = a, scores[a]
        return best
    if policy == THOMPSON_GAUSSIAN:
        for a in range(arms):
            if not active[a]:
                continue
            z, st = normal(st)
            precision = n[a] + 1.0
            score = s[a] / precision + p[_SIGMA] / math.sqrt(precision) * z
            if best < 0 or score > best_score:
                best, best_score = a, score
        return best
    if policy == SOFTMAX:
        top = -np.inf
        for a in range(arms):
            if active[a]:
                top = max(top, s[a] / n[a] if n[a] > 0.0 else 0.0)
        total = 0.0
        for a in range(arms):
            if active[a]:
                total += math.exp(((s[a] / n[a] if n[a] > 0.0 else 0.0) - top) / p[_TEMPERATURE])
        u, st = next_uniform(st)
        u *= total
        for a in range(arms):
            if active[a]:
                best = a
                u -= math.exp(((s[a] / n[a] if n[a] > 0.0 else 0.0) - top) / p[_TEMPERATURE])
                if u < 0.0:
                    break
        return best
    u, st = next_uniform(st)  # EXP3
    for a in range(arms):
        if active[a]:
            best = a
            u -= _exp3_probability(logw, active, count, p[_GAMMA], a)
            if u < 0.0:
                break
    return best


@jit()
def _select_many(policy: int, p: Any, n: Any, s: Any, logw: Any, active: Any, seed: Any,
                 k0: Any, updates: Any, out: Any) -> None:  # fmt: skip
    arms = n.size
    scratch = (np.empty(4 * arms, np.uint32), np.empty(2 * arms), np.empty(arms), np.empty(arms),
               np.empty(arms))  # fmt: skip
    for i in range(out.size):
        out[i] = _decide(policy, p, n, s, logw, active, seed, k0 + np.uint64(i), updates, scratch)


@jit()
def _beta_variates(a: Any, b: Any, seed: Any, k: Any, out: Any) -> None:
    st = _decision_stream(seed, k)
    m = a.size
    beta_many(st, a, b, np.ones(m, np.uint8), np.empty(4 * m, np.uint32), np.empty(2 * m), out)


@jit()
def _normal_variates(seed: Any, k: Any, out: Any) -> None:
    st = _decision_stream(seed, k)
    for i in range(out.size):
        out[i], st = normal(st)


def beta_variates(a: Any, b: Any, seed: int, decision: int) -> np.ndarray:
    """chimera._core.bandit.beta_variates: Thompson's Beta scores of decision ``decision``."""
    a, b = np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValidationError("a and b must be 1-D arrays of the same length")
    if not (np.isfinite(a).all() and np.isfinite(b).all() and (a > 0).all() and (b > 0).all()):
        raise ValidationError("Beta shapes must be finite and positive")
    out = np.empty(a.size)
    _beta_variates(a, b, np.uint64(seed), np.uint64(decision), out)
    return out


def normal_variates(n: int, seed: int, decision: int) -> np.ndarray:
    """chimera._core.bandit.normal_variates: n ziggurat normals of decision ``decision``."""
    out = np.empty(int(n))
    _normal_variates(np.uint64(seed), np.uint64(decision), out)
    return out


def _arm_ids(arms: Any) -> np.ndarray:
    """Arm ids as int64, from integers only: a cast would take 0.7 for arm 0."""
    if isinstance(arms, (bool, np.bool_)):
        raise ValidationError("arms must be integer arm ids, not booleans")
    try:
        view = np.asarray(arms)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(
            "arms must be integers and rewards numbers (scalars or 1-D arrays)"
        ) from exc
    if view.dtype.kind == "b":
        raise ValidationError("arms must be integer arm ids, not booleans")
    if view.dtype.kind not in "iu" and view.size > 0:
        raise ArgumentTypeError(f"arms must be integer arm ids, got {view.dtype} values such as "
                        f"{repr(arms)[:40]}")  # fmt: skip
    return view.astype(np.int64)


class Bandit:
    """The state and methods of ``chimera._core.bandit.Bandit``, on NumPy arrays."""

    def __init__(
        self,
        *,
        policy: int,
        arms: int,
        epsilon: float = 0.1,
        decay: float = 0.0,
        c: float = 2.0,
        alpha: float = 1.0,
        beta: float = 1.0,
        sigma: float = 1.0,
        temperature: float = 0.1,
        gamma: float = 0.1,
        discount: float = 1.0,
        window: int = 0,
        seed: int = 0,
    ) -> None:
        if not EPSILON_GREEDY <= policy <= EXP3:
            raise ValidationError("unknown policy code")
        self.policy = int(policy)
        self._p = np.array([epsilon, decay, c, alpha, beta, sigma, temperature, gamma], float)
        self.discount, self.window, self.seed = float(discount), int(window), np.uint64(seed)
        self._n, self._s, self._sq, self._lw = (np.zeros(arms) for _ in range(4))
        self._active = np.ones(arms, dtype=np.uint8)
        self._history: deque[tuple[int, float]] = deque()
        self._decisions = self._updates = 0
        self._rows: dict[int, tuple[float, float, np.ndarray]] = {}  # arm -> (a, b, quantiles)

    # --- decisions ------------------------------------------------------------------------

    def select(self, n: Any = None, context: Any = None) -> Any:
        _no_context(context)
        if not self._active.any():
            raise ValidationError("no active arm to select from: add_arm() first")
        if n is None:
            out = np.empty(1, dtype=np.int32)
            self._fill(out)
            return int(out[0])
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ArgumentTypeError("n must be None or a non-negative integer")
        if not 0 <= n < 2**63:
            raise ValidationError("n must be None or a non-negative integer that fits 64 bits")
        fits_in_memory(4 * int(n), f"n={n} decisions")
        out = np.empty(int(n), dtype=np.int32)
        if not self._select_by_table(out):
            self._fill(out)
        return out

    def _posterior(self, arm: int) -> tuple[float, float]:
        """Bernoulli Thompson's Beta shapes of an arm, as the C++ refresh_posterior has them."""
        n, s = float(self._n[arm]), float(self._s[arm])
        return float(self._p[_ALPHA] + max(s, 0.0)), float(self._p[_BETA] + max(n - s, 0.0))

    def _select_by_table(self, out: np.ndarray) -> bool:
        """Bandit::select_many's batch by inversion, when it applies (docs/kernels.md)."""
        if self.policy != THOMPSON_BETA or out.size < beta_argmax.TABLE_BATCH:
            return False
        ids = np.flatnonzero(self._active).astype(np.int32)
        if ids.size > beta_argmax.TABLE_ARMS:
            return False
        shapes = np.array([self._posterior(int(arm)) for arm in ids]).reshape(-1, 2)
        if not ((shapes >= 1.0).all() and (shapes.sum(axis=1) <= beta_argmax.TABLE_SHAPES).all()):
            return False
        stale = [i for i, arm in enumerate(ids)
                 if self._rows.get(int(arm), (None, None))[:2] != tuple(shapes[i])]  # fmt: skip
        if stale:
            fresh = beta_argmax.quantile_rows(shapes[stale, 0], shapes[stale, 1])
            for i, row in zip(stale, fresh, strict=True):
                self._rows[int(ids[i])] = (shapes[i, 0], shapes[i, 1], row)
        rows = np.array([self._rows[int(arm)][2] for arm in ids])
        if not all(beta_argmax.usable_row(q) for q in rows):
            return False
        beta_argmax.select_by_table(ids, shapes[:, 0].copy(), shapes[:, 1].copy(), rows,
                                    self.seed, self._decisions, out)  # fmt: skip
        self._decisions += out.size
        return True

    def _fill(self, out: np.ndarray) -> None:
        _select_many(self.policy, self._p, self._n, self._s, self._lw, self._active, self.seed,
                     np.uint64(self._decisions), float(self._updates), out)  # fmt: skip
        self._decisions += out.size

    def update(self, arms: Any, rewards: Any, context: Any = None) -> None:
        _no_context(context)
        a = _arm_ids(arms)
        try:
            r = np.asarray(rewards, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ArgumentTypeError(
                "arms must be integers and rewards numbers (scalars or 1-D arrays)"
            ) from exc
        if a.ndim > 1 or r.ndim > 1:
            raise ValidationError("arms and rewards must be scalars or 1-D arrays")
        a, r = a.ravel(), r.ravel()
        if a.size != r.size:
            raise ValidationError(
                f"rewards must have one value per arm: got {a.size} arms and {r.size} rewards"
            )
        for arm, reward in zip(a.tolist(), r.tolist(), strict=True):
            self._check_arm(arm)
            self._check_reward(reward)
        for arm, reward in zip(a.tolist(), r.tolist(), strict=True):
            self._apply(arm, reward)

    def _apply(self, arm: int, reward: float) -> None:
        if self.policy == EXP3:
            count = int(self._active.sum())
            prob = _exp3_probability(self._lw, self._active, count, self._p[_GAMMA], arm)
            self._lw[arm] += self._p[_GAMMA] * (reward / prob) / count
        if self.discount < 1.0:
            self._n *= self.discount
            self._s *= self.discount
            self._sq *= self.discount
        if self.window > 0 and len(self._history) == self.window:
            old, old_reward = self._history.popleft()
            self._n[old] -= 1.0
            self._s[old] -= old_reward
            self._sq[old] -= old_reward * old_reward
        if self.window > 0:
            self._history.append((arm, reward))
        self._n[arm] += 1.0
        self._s[arm] += reward
        self._sq[arm] += reward * reward
        self._updates += 1

    def _check_arm(self, arm: int) -> None:
        if not (0 <= arm < self._n.size and self._active[arm]):
            raise ValidationError(
                f"arm {arm} is not an active arm (arms are 0..{self._n.size - 1}, "
                "removed ones excluded)"
            )

    def _check_reward(self, r: float) -> None:
        if not math.isfinite(r):
            raise ValidationError(f"reward must be finite, got {r}")
        if self.policy in (THOMPSON_BETA, EXP3) and not 0.0 <= r <= 1.0:
            raise ValidationError(f"this policy takes rewards in [0, 1], got {r}")

    # --- arms and state ---------------------------------------------------------------------

    def add_arm(self) -> int:
        mean_lw = float(self._lw[self._active == 1].mean()) if self._active.any() else 0.0
        self._n, self._s, self._sq = (np.append(v, 0.0) for v in (self._n, self._s, self._sq))
        self._lw = np.append(self._lw, mean_lw)
        self._active = np.append(self._active, np.uint8(1))
        return int(self._n.size - 1)

    def remove_arm(self, arm: int) -> None:
        self._check_arm(int(arm))
        self._active[arm] = 0

    @property
    def arms(self) -> int:
        return int(self._n.size)

    @property
    def active(self) -> np.ndarray:
        return self._active.astype(bool)

    def state(self) -> dict[str, Any]:
        return {
            "pulls": self._n.copy(), "sums": self._s.copy(), "squares": self._sq.copy(),
            "log_weights": self._lw.copy(), "active": self._active.copy(),
            "window_arms": np.array([h[0] for h in self._history], dtype=np.int32),
            "window_rewards": np.array([h[1] for h in self._history], dtype=np.float64),
            "decisions": self._decisions, "updates": self._updates,
        }  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        pulls = np.array(state["pulls"], dtype=np.float64)
        arms = pulls.size
        arrays = {
            k: np.array(state[k], dtype=dt)
            for k, dt in (("sums", float), ("squares", float), ("log_weights", float),
                          ("active", np.uint8))
        }  # fmt: skip
        for k, v in arrays.items():
            if v.shape != (arms,):
                raise ValidationError(f"bandit state '{k}' has {v.size} entries, expected {arms}")
        wa = np.array(state["window_arms"], dtype=np.int32)
        wr = np.array(state["window_rewards"], dtype=np.float64)
        if wa.shape != wr.shape or len(wa) > self.window or ((wa < 0) | (wa >= arms)).any():
            raise ValidationError("bandit state window does not fit this bandit")
        self._n, self._s, self._sq = pulls, arrays["sums"], arrays["squares"]
        self._lw, self._active = arrays["log_weights"], arrays["active"]
        self._history = deque(zip(wa.tolist(), wr.tolist(), strict=True))
        self._decisions, self._updates = int(state["decisions"]), int(state["updates"])


def _no_context(context: Any) -> None:
    if context is not None:
        raise ValidationError("this policy takes no context; LinUCB and LinearThompson do")


# --- contextual: one ridge model per arm -------------------------------------------------------

LINUCB, LINEAR_THOMPSON = 0, 1


@jit()
def _linear_select(policy: int, alpha: float, a_inv: Any, theta: Any, active: Any, seed: Any,
                   k0: Any, X: Any, out: Any) -> None:  # fmt: skip
    arms, d = theta.shape
    for r in range(X.shape[0]):
        k = k0 + np.uint64(r)
        st = _decision_stream(seed, k)
        best, best_score = -1, -np.inf
        for a in range(arms):
            if not active[a]:
                continue
            mean, var = 0.0, 0.0
            for i in range(d):
                mean += theta[a, i] * X[r, i]
                row = 0.0
                for j in range(d):
                    row += a_inv[a, i, j] * X[r, j]
                var += X[r, i] * row
            width = math.sqrt(max(var, 0.0))
            if policy == LINUCB:
                score = mean + alpha * width
            else:
                z, st = normal(st)
                score = mean + alpha * width * z
            if best < 0 or score > best_score:
                best, best_score = a, score
        out[r] = best


@jit()
def _rank_one(a_inv: Any, b: Any, arm: int, reward: float, x: Any, sign: float) -> bool:
    """A += sign x x^T, b += sign r x for one arm (theta not refreshed); False, nothing
    changed, when a downdate's denominator is not positive. The C++ rank_one, op for op."""
    d = x.size
    u = np.empty(d)
    denom = 1.0
    for i in range(d):
        row = 0.0
        for j in range(d):
            row += a_inv[arm, i, j] * x[j]
        u[i] = row
        denom += sign * (x[i] * row)
    if not denom > 0.0:
        return False
    for i in range(d):
        for j in range(d):
            a_inv[arm, i, j] -= sign * u[i] * u[j] / denom
    for i in range(d):
        b[arm, i] += sign * reward * x[i]
    return True


@jit()
def _arm_theta(a_inv: Any, b: Any, theta: Any, arm: int) -> None:
    """theta = A^-1 b for one arm, summed in the C++ order."""
    d = b.shape[1]
    for i in range(d):
        v = 0.0
        for j in range(d):
            v += a_inv[arm, i, j] * b[arm, j]
        theta[arm, i] = v


@jit()
def _refresh_theta(a_inv: Any, b: Any, theta: Any) -> None:
    """theta = A^-1 b for every arm."""
    for a in range(b.shape[0]):
        _arm_theta(a_inv, b, theta, a)


class LinearBandit:
    """The state and methods of ``chimera._core.bandit.LinearBandit``, on NumPy arrays."""

    def __init__(self, *, policy: int, arms: int, dim: int, alpha: float = 1.0, l2: float = 1.0,
                 window: int = 0, seed: int = 0) -> None:  # fmt: skip
        if policy not in (LINUCB, LINEAR_THOMPSON):
            raise ValidationError("unknown policy code")
        if dim < 1:
            raise ValidationError("dim must be at least 1")
        self.policy, self.dim, self.alpha, self.l2 = int(policy), int(dim), float(alpha), float(l2)
        self.window = int(window)
        self._history: deque[tuple[int, float, np.ndarray]] = deque()  # oldest first
        self.seed = np.uint64(seed)
        self._a_inv, self._b = self._prior(arms)
        self._theta = np.zeros((arms, dim))
        self._active = np.ones(arms, dtype=np.uint8)
        self._decisions = self._updates = 0

    def _contexts(self, context: Any, one: bool) -> np.ndarray:
        if context is None:
            raise ValidationError(f"this policy needs a context: an array of {self.dim} features")
        try:
            c = np.ascontiguousarray(context, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ArgumentTypeError("context must be an array of numbers") from exc
        ok = (c.ndim == 1 and c.shape[0] == self.dim) or (
            not one and c.ndim == 2 and c.shape[1] == self.dim
        )
        if not ok:
            hint = "" if one else f" ((n, {self.dim}) for n decisions)"
            raise ValidationError(
                f"context must have {self.dim} features per row{hint}, got shape {c.shape}"
            )
        if not np.isfinite(c).all():
            raise ValidationError("context contains a non-finite value")
        return c.reshape(-1, self.dim)

    def select(self, n: Any = None, context: Any = None) -> Any:
        if not self._active.any():
            raise ValidationError("no active arm to select from: add_arm() first")
        X = self._contexts(context, n is None)
        if n is not None and (isinstance(n, bool) or n != X.shape[0]):
            raise ValidationError(f"n must equal the number of context rows ({X.shape[0]})")
        out = np.empty(X.shape[0], dtype=np.int32)
        _linear_select(self.policy, self.alpha, self._a_inv, self._theta, self._active,
                       self.seed, np.uint64(self._decisions), X, out)  # fmt: skip
        self._decisions += X.shape[0]
        return int(out[0]) if n is None else out

    def update(self, arms: Any, rewards: Any, context: Any = None) -> None:
        X = self._contexts(context, False)
        a = np.atleast_1d(_arm_ids(arms))
        r = np.atleast_1d(np.asarray(rewards, dtype=np.float64))
        if not a.size == r.size == X.shape[0]:
            raise ValidationError(
                f"arms, rewards and context rows must match: got {a.size} arms, {r.size} "
                f"rewards and {X.shape[0]} context rows"
            )
        for arm, reward in zip(a.tolist(), r.tolist(), strict=True):
            if not (0 <= arm < self._active.size and self._active[arm]):
                raise ValidationError(f"arm {arm} is not an active arm")
            if not math.isfinite(reward):
                raise ValidationError("reward must be finite")
        for i, (arm, reward) in enumerate(zip(a.tolist(), r.tolist(), strict=True)):
            self._update_one(arm, reward, X[i])

    def _update_one(self, arm: int, reward: float, x: np.ndarray) -> None:
        """The C++ LinearBandit::update: the window's oldest leaves by a downdate (or a rebuild
        when rounding has won), the new one enters, and every ``window`` updates a rebuild."""
        if self.window > 0:
            if len(self._history) == self.window:
                old, old_reward, old_x = self._history.popleft()
                if _rank_one(self._a_inv, self._b, old, old_reward, old_x, -1.0):
                    _arm_theta(self._a_inv, self._b, self._theta, old)
                else:
                    self._rebuild()
            self._history.append((arm, reward, x.copy()))
        _rank_one(self._a_inv, self._b, arm, reward, x, 1.0)
        _arm_theta(self._a_inv, self._b, self._theta, arm)
        self._updates += 1
        if self.window > 0 and self._updates % self.window == 0:
            self._rebuild()

    def _prior(self, arms: int) -> tuple[np.ndarray, np.ndarray]:
        """A^-1 = I / l2 and b = 0 for ``arms`` arms."""
        return np.repeat(np.eye(self.dim)[None] / self.l2, arms, axis=0), np.zeros((arms, self.dim))

    def _rebuild(self) -> None:
        self._a_inv, self._b = self._prior(self._active.size)
        for arm, reward, x in self._history:
            _rank_one(self._a_inv, self._b, arm, reward, x, 1.0)
        _refresh_theta(self._a_inv, self._b, self._theta)

    def add_arm(self) -> int:
        a_inv, b = self._prior(1)
        self._a_inv, self._b = np.concatenate([self._a_inv, a_inv]), np.vstack([self._b, b])
        self._theta = np.vstack([self._theta, np.zeros(self.dim)])
        self._active = np.append(self._active, np.uint8(1))
        return int(self._active.size - 1)

    def remove_arm(self, arm: int) -> None:
        if not (0 <= arm < self._active.size and self._active[arm]):
            raise ValidationError(f"arm {arm} is not an active arm")
        self._active[arm] = 0

    @property
    def arms(self) -> int:
        return int(self._active.size)

    @property
    def active(self) -> np.ndarray:
        return self._active.astype(bool)

    def state(self) -> dict[str, Any]:
        h = self._history
        return {
            "a_inv": self._a_inv.ravel().copy(), "b": self._b.ravel().copy(),
            "active": self._active.copy(),
            "window_arms": np.array([e[0] for e in h], dtype=np.int32),
            "window_rewards": np.array([e[1] for e in h], dtype=np.float64),
            "window_contexts": np.array([e[2] for e in h], dtype=np.float64).reshape(-1),
            "decisions": self._decisions, "updates": self._updates,
        }  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        active = np.array(state["active"], dtype=np.uint8)
        arms, d = active.size, self.dim
        a_inv = np.array(state["a_inv"], dtype=np.float64)
        b = np.array(state["b"], dtype=np.float64)
        if a_inv.size != arms * d * d or b.size != arms * d:
            raise ValidationError("bandit state arrays do not fit this bandit's arms and dim")
        w_arms = np.array(state.get("window_arms", []), dtype=np.int64).reshape(-1)
        w_rewards = np.array(state.get("window_rewards", []), dtype=np.float64).reshape(-1)
        w_x = np.array(state.get("window_contexts", []), dtype=np.float64).reshape(-1)
        if w_arms.size > self.window:
            raise ValidationError("the state's window holds more updates than the window")
        if ((w_arms < 0) | (w_arms >= arms)).any():
            raise ValidationError("the state's window names an arm out of range")
        if w_rewards.size != w_arms.size or w_x.size != w_arms.size * d:
            raise ValidationError("bandit state arrays do not fit this bandit's arms and dim")
        self._history = deque(
            (int(a), float(r), x.copy())
            for a, r, x in zip(w_arms, w_rewards, w_x.reshape(-1, d), strict=True)
        )
        self._a_inv, self._b, self._active = a_inv.reshape(arms, d, d), b.reshape(arms, d), active
        self._theta = np.zeros((arms, d))
        _refresh_theta(self._a_inv, self._b, self._theta)
        self._decisions, self._updates = int(state["decisions"]), int(state["updates"])

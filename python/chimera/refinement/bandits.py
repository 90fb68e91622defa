"""Multi-armed bandits: which variant gets the next request.

Every policy has the same interface:

- ``select()`` -> one arm (int); ``select(n)`` -> an int32 array of ``n`` decisions made on
  the current statistics (a batch);
- ``update(arm, reward)`` with scalars, or ``update(arms, rewards)`` with arrays;
- ``add_arm()`` -> the new arm's id, ``remove_arm(arm)`` (ids stay stable);
- ``state_dict()`` / ``load_state_dict()``: a restored bandit continues exactly;
- ``backend``: ``cpp`` (default) or ``numba``, the same decisions draw for draw;
- ``seed``: decisions draw from the project's counter-based generator (Philox), decision k
  from its own stream, so a seeded run repeats whatever the batching. One exception, for
  speed: a Bernoulli Thompson batch of at least 16,384 decisions whose arms all have Beta
  shapes a, b >= 1 with a + b <= 1e6 draws by inversion on quantile tables from SciPy
  (docs/kernels.md): the same policy and the same seeded repeatability for the same batches
  and SciPy, but other draws than as many single decisions.

The statistics and the decisions live in the native kernel (``chimera._core.bandit``);
``select`` and ``update`` of an instance *are* the kernel's methods, so an online
select + update pair costs a few hundred nanoseconds from Python.

Non-stationary rewards: ``discount=g`` multiplies every arm's statistics by ``g`` before each
update (older rewards fade), ``window=w`` keeps only the last ``w`` rewards. The contextual
policies take ``window`` only (their ridge models are downdated as updates leave it); EXP3,
made for adversarial rewards, takes neither.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .. import _backend, _core
from .._errors import ValidationError
from .._validate import as_seed, fits_in_memory, integer, real

_FORMAT = "chimera.bandit/1"


#: The most arms a bandit holds (its statistics are a few arrays of this length).
MAX_ARMS = 1 << 20


def _positive(value: Any, name: str, *, upper: float | None = None) -> float:
    bound = f" and at most {upper}" if upper is not None else ""
    return real(value, name, 0.0, math.inf if upper is None else upper, open_low=True,
                want=f"a positive number{bound}")  # fmt: skip


def _count(value: Any, name: str, most: int) -> int:
    """A positive integer up to ``most`` (what the kernels' arrays can hold)."""
    n = integer(value, name)
    if n > most:
        raise ValidationError(f"{name} must be a positive integer of at most {most}, got {n}")
    return n


def _window(window: Any) -> int:
    """The window as the kernels take it: 0 for none."""
    if window is None:
        return 0
    return _count(window, "window", MAX_ARMS * 1024)


class Bandit:
    """Shared construction, arms, state and repr of the policies below."""

    policy: str
    _code: int
    #: Whether the policy takes ``discount`` or ``window`` to forget old rewards (EXP3 adapts
    #: by itself).
    forgets: ClassVar[bool] = True

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        discount: float | None = None,
        window: int | None = None,
        backend: str = "auto",
        **params: Any,
    ) -> None:
        _count(n_arms, "n_arms", MAX_ARMS)
        if discount is not None and window is not None:
            raise ValidationError("give discount or window, not both")
        if not self.forgets and (discount is not None or window is not None):
            raise ValidationError(f"{type(self).__name__} adapts by itself: no discount or window")
        if discount is not None:
            _positive(discount, "discount", upper=1.0)
        self.window = _window(window)
        self.seed = as_seed(seed)
        self.params = dict(params)
        self.discount = 1.0 if discount is None else float(discount)
        self.backend, kernels = _backend.resolve(backend, "bandit")
        self._impl = kernels.Bandit(
            policy=self._code, arms=int(n_arms), discount=self.discount, window=self.window,
            seed=self.seed, **params,
        )  # fmt: skip
        # The kernel's own methods, so that a call goes straight to C++.
        self.select = self._impl.select  # type: ignore[method-assign]
        self.update = self._impl.update  # type: ignore[method-assign]

    def select(self, n: int | None = None, context: Any = None) -> Any:
        """One arm, or an int32 array of ``n`` decisions on the current statistics."""
        return self._impl.select(n, context)

    def update(self, arms: Any, rewards: Any, context: Any = None) -> None:
        """The reward of an arm, or arrays of arms and rewards (applied in order)."""
        self._impl.update(arms, rewards, context)

    @property
    def n_arms(self) -> int:
        """Arm ids handed out so far (removed arms included)."""
        return int(self._impl.arms)

    @property
    def active(self) -> np.ndarray:
        """Which arm ids can be selected."""
        return np.asarray(self._impl.active)

    def add_arm(self) -> int:
        """A new arm, with no history; returns its id."""
        return int(self._impl.add_arm())

    def remove_arm(self, arm: int) -> None:
        """Stops selecting ``arm``; its id is not reused."""
        self._impl.remove_arm(arm)

    def config(self) -> dict[str, Any]:
        return {
            "policy": self.policy, "params": self.params, "discount": self.discount,
            "window": self.window, "seed": self.seed,
        }  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: configuration, statistics, counters."""
        return {"format": _FORMAT, "config": self.config(), "state": self._impl.state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a :meth:`state_dict` of a bandit with the same policy and settings."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValidationError(f"not a chimera bandit state (expected format {_FORMAT!r})")
        theirs, ours = state.get("config"), self.config()
        if theirs != ours:
            raise ValidationError(
                f"this state belongs to another bandit: {theirs!r}; this one is {ours!r}"
            )
        bounded = self._code in (_core.bandit.THOMPSON_BETA, _core.bandit.EXP3)  # rewards in [0, 1]
        self._impl.set_state(_checked_statistics(state.get("state"), bounded))

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}(n_arms={self.n_arms}, {extra}, seed={self.seed})"


# What each statistic of a state may hold: counts are >= 0, every value finite.
_NON_NEGATIVE = ("pulls", "squares", "decisions", "updates")
_FLAGS = ("active",)
_COUNTERS = ("decisions", "updates")


def _checked_statistics(stats: Any, bounded: bool) -> dict[str, Any]:
    """A state's statistics, refused (naming the entry) when a value is not finite, a count is
    negative, a flag is not 0 or 1, a counter is not an integer, or (``bounded``: rewards in
    [0, 1]) an arm's reward sum is outside [0, its pulls]: the kernels trust them."""
    if not isinstance(stats, dict):
        raise ValidationError(
            f"a bandit state's 'state' must be a dict, got {type(stats).__name__}"
        )
    for key, value in stats.items():
        try:
            a = np.asarray(value)
            numeric = a.dtype.kind in "iuf" and np.isfinite(a).all()
        except TypeError:
            numeric = False
        if not numeric:
            raise ValidationError(f"bandit state {key} must hold finite numbers, got {value!r:.60}")
        if key in _COUNTERS and (a.ndim or a.dtype.kind not in "iu"):
            raise ValidationError(f"bandit state {key} must be an integer, got {value!r:.60}")
        if key in _NON_NEGATIVE and (a < 0).any():
            raise ValidationError(f"bandit state {key} must be >= 0, got {value!r:.60}")
        if key in _FLAGS and not np.isin(a, (0, 1)).all():
            raise ValidationError(f"bandit state {key} must hold 0 or 1 per arm, got {value!r:.60}")
    if bounded and "sums" in stats and "pulls" in stats:
        sums, pulls = np.asarray(stats["sums"]), np.asarray(stats["pulls"])
        if sums.shape != pulls.shape or (sums < 0).any() or (sums > pulls * (1 + 1e-9)).any():
            raise ValidationError("bandit state sums must lie in [0, pulls] per arm: this "
                                  "policy's rewards are in [0, 1]")  # fmt: skip
    return stats


class EpsilonGreedy(Bandit):
    """The arm with the best mean reward, or with probability ``epsilon / (1 + decay * t)``
    (t: updates so far) a uniformly random arm. Untried arms have mean 0; ties go to the
    lowest id."""

    policy = "epsilon_greedy"
    _code = _core.bandit.EPSILON_GREEDY

    def __init__(self, n_arms: int, *, epsilon: float = 0.1, decay: float = 0.0, **options: Any):
        _positive(epsilon, "epsilon", upper=1.0)
        decay = real(decay, "decay", 0.0)
        super().__init__(n_arms, epsilon=float(epsilon), decay=decay, **options)


class UCB1(Bandit):
    """Upper confidence bound (Auer et al. 2002): every arm once, then the arm maximising
    ``mean + sqrt(c * ln(total pulls) / pulls)``; deterministic, ties to the lowest id."""

    policy = "ucb1"
    _code = _core.bandit.UCB1

    def __init__(self, n_arms: int, *, c: float = 2.0, **options: Any):
        super().__init__(n_arms, c=_positive(c, "c"), **options)


class ThompsonSampling(Bandit):
    """Thompson sampling: each arm's mean is drawn from its posterior and the best draw wins.

    ``likelihood="bernoulli"``: rewards in [0, 1], a Beta(alpha, beta) prior, the posterior
    Beta(alpha + sum of rewards, beta + pulls - sum). ``likelihood="gaussian"``: rewards with
    noise sd ``sigma``, a N(0, sigma^2) prior on each mean, the posterior
    N(sum / (pulls + 1), sigma^2 / (pulls + 1)).
    """

    policy = "thompson"
    _code = _core.bandit.THOMPSON_BETA

    def __init__(
        self,
        n_arms: int,
        *,
        likelihood: str = "bernoulli",
        alpha: float = 1.0,
        beta: float = 1.0,
        sigma: float = 1.0,
        **options: Any,
    ):
        if not isinstance(likelihood, str) or likelihood not in ("bernoulli", "gaussian"):
            raise ValidationError(
                f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}"
            )
        self.likelihood = likelihood
        self._code = (
            _core.bandit.THOMPSON_BETA
            if likelihood == "bernoulli"
            else _core.bandit.THOMPSON_GAUSSIAN
        )
        self.policy = f"thompson_{likelihood}"
        params: dict[str, Any]
        # Every setting is checked, the one this likelihood ignores too: a typo should not pass.
        checked = {"alpha": _positive(alpha, "alpha"), "beta": _positive(beta, "beta"),
                   "sigma": _positive(sigma, "sigma")}  # fmt: skip
        if likelihood == "bernoulli":
            params = {"alpha": checked["alpha"], "beta": checked["beta"]}
        else:
            params = {"sigma": checked["sigma"]}
        super().__init__(n_arms, **params, **options)


class Softmax(Bandit):
    """Boltzmann exploration: arm i with probability proportional to
    ``exp(mean_i / temperature)`` (untried arms have mean 0)."""

    policy = "softmax"
    _code = _core.bandit.SOFTMAX

    def __init__(self, n_arms: int, *, temperature: float = 0.1, **options: Any):
        super().__init__(n_arms, temperature=_positive(temperature, "temperature"), **options)


class EXP3(Bandit):
    """EXP3 (Auer et al. 2002) for adversarial rewards in [0, 1]: arm i with probability
    ``(1 - gamma) * w_i / sum(w) + gamma / K``; the arm played gains
    ``w_i *= exp(gamma * (reward / p_i) / K)``."""

    policy = "exp3"
    _code = _core.bandit.EXP3
    forgets = False

    def __init__(self, n_arms: int, *, gamma: float = 0.1, **options: Any):
        super().__init__(n_arms, gamma=_positive(gamma, "gamma", upper=1.0), **options)


class _Linear(Bandit):
    """Shared construction of the contextual policies (one ridge-regression model per arm)."""

    def __init__(
        self,
        n_arms: int,
        dim: int,
        *,
        alpha: float,
        l2: float = 1.0,
        window: int | None = None,
        discount: float | None = None,
        seed: int | None = None,
        backend: str = "auto",
    ) -> None:
        _count(n_arms, "n_arms", MAX_ARMS)
        integer(dim, "dim")
        # each arm's ridge model: a dim x dim inverse and a dim vector
        fits_in_memory(8 * n_arms * dim * (dim + 1), f"{n_arms} arms of dim {dim}")
        if discount is not None:
            raise ValidationError(
                f"{type(self).__name__} forgets by window=, not discount=: discounting every "
                "arm's ridge model at each update would cost a matrix inverse per arm"
            )
        self.window = _window(window)
        self.seed = as_seed(seed)
        self.dim = int(dim)
        self.params = {"alpha": _positive(alpha, "alpha"), "l2": _positive(l2, "l2")}
        self.discount = 1.0
        self.backend, kernels = _backend.resolve(backend, "bandit")
        self._impl = kernels.LinearBandit(
            policy=self._code, arms=int(n_arms), dim=self.dim, window=self.window, seed=self.seed,
            **self.params,
        )  # fmt: skip
        self.select = self._impl.select  # type: ignore[method-assign]
        self.update = self._impl.update  # type: ignore[method-assign]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dim": self.dim}


class LinUCB(_Linear):
    """LinUCB with disjoint models (Li et al. 2010): in context x (``dim`` features) each arm
    scores ``theta_a . x + alpha * sqrt(x^T A_a^-1 x)``, ``theta_a`` the ridge estimate
    (penalty ``l2``) from the arm's own (context, reward) pairs. ``select(context=x)`` for one
    decision, ``select(n, context=X)`` with X of shape (n, dim) for several; ``update(arm,
    reward, context=x)`` or arrays with one context row per reward. ``window=w``: only the last
    ``w`` updates count (sliding-window LinUCB, Cheung et al. 2019), for rewards that drift."""

    policy = "linucb"
    _code = _core.bandit.LINUCB

    def __init__(self, n_arms: int, dim: int, *, alpha: float = 1.0, **options: Any):
        super().__init__(n_arms, dim, alpha=alpha, **options)


class LinearThompson(_Linear):
    """Linear Thompson sampling (Agrawal and Goyal 2013) on the same per-arm ridge models:
    each arm's parameters are drawn from ``N(theta_a, v^2 A_a^-1)``, i.e. its score in context
    x from ``N(theta_a . x, v^2 x^T A_a^-1 x)``, and the best draw wins."""

    policy = "linear_thompson"
    _code = _core.bandit.LINEAR_THOMPSON

    def __init__(self, n_arms: int, dim: int, *, v: float = 1.0, **options: Any):
        super().__init__(n_arms, dim, alpha=v, **options)


#: The policies without context, by name: what a spec's ``[refinement.bandit] policy`` names.
POLICIES: dict[str, type[Bandit]] = {
    cls.policy: cls for cls in (ThompsonSampling, UCB1, EpsilonGreedy, Softmax, EXP3)
}

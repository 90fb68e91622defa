"""Genetic operators as small, validated value objects.

Each maps onto a code of the native kernels (docs/kernels.md). Strings name them too:
``selection="tournament"``, ``crossover="sbx"``, ``mutation="polynomial"``; a dict such as
``{"name": "tournament", "k": 3}`` (as written in a TOML spec) is accepted as well.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from .._errors import ValidationError
from .._validate import did_you_mean, integer, real

#: Most entries of a mutation-count table the kernels accept (see docs/kernels.md).
MAX_MUTATION_TABLE = 64
#: The largest tournament: a tournament larger than the population selects its best.
MAX_TOURNAMENT = 1 << 16
MAX_GROUPS = 1 << 16


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValidationError(message)


def _check_probability(value: float | None, what: str) -> None:
    if value is not None:
        real(value, f"{what} (a probability)", 0.0, 1.0)


@dataclass(frozen=True)
class Operator:
    """Base of the operators: a name for specs, a kernel code, and its parameters."""

    name: ClassVar[str] = ""
    code: ClassVar[int] = 0

    def params(self) -> dict[str, Any]:
        return asdict(self)


# Selection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tournament(Operator):
    """Tournament selection: the best of ``k`` individuals drawn with replacement."""

    k: int = 3
    name: ClassVar[str] = "tournament"
    code: ClassVar[int] = 0

    def __post_init__(self) -> None:
        integer(self.k, "tournament size k", 1, MAX_TOURNAMENT)

    def size(self, pop_size: int) -> int:
        return self.k


@dataclass(frozen=True)
class Truncation(Operator):
    """Truncation selection: parents drawn uniformly from the best ``fraction`` of the population."""

    fraction: float = 0.5
    name: ClassVar[str] = "truncation"
    code: ClassVar[int] = 1

    def __post_init__(self) -> None:
        real(self.fraction, "truncation fraction", 0.0, 1.0, open_low=True)

    def size(self, pop_size: int) -> int:
        return max(1, min(pop_size, round(self.fraction * pop_size)))


@dataclass(frozen=True)
class StochasticUniversal(Operator):
    """Stochastic universal sampling (Baker 1987) on weights ``max(f) - f``."""

    name: ClassVar[str] = "sus"
    code: ClassVar[int] = 2

    def size(self, pop_size: int) -> int:
        return 0


# Crossover -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossover(Operator):
    """A recombination applied to each parent pair with probability ``rate``."""

    # keyword-only, so that a subclass's own parameter comes first: SBX(15), Gaussian(0.2)
    rate: float = field(default=0.9, kw_only=True)
    real_only: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.rate is None:
            raise ValidationError(f"{self.name} crossover rate must be a probability, got None")
        _check_probability(self.rate, f"{self.name} crossover rate")

    def param(self) -> float:
        return 0.0


@dataclass(frozen=True)
class NoCrossover(Crossover):
    """Children are copies of their parents."""

    rate: float = field(default=0.0, kw_only=True)
    name: ClassVar[str] = "none"
    code: ClassVar[int] = 0


@dataclass(frozen=True)
class SinglePoint(Crossover):
    """Single-point crossover: genes after a random cut come from the other parent."""

    name: ClassVar[str] = "single_point"
    code: ClassVar[int] = 1


@dataclass(frozen=True)
class TwoPoint(Crossover):
    """Two-point crossover: the segment between two random cuts is exchanged."""

    name: ClassVar[str] = "two_point"
    code: ClassVar[int] = 2


@dataclass(frozen=True)
class UniformCrossover(Crossover):
    """Uniform crossover: each gene is exchanged with probability 1/2."""

    name: ClassVar[str] = "uniform"
    code: ClassVar[int] = 3


@dataclass(frozen=True)
class Blend(Crossover):
    """BLX-alpha: each child gene uniform on the parents' interval widened by ``alpha`` each side."""

    alpha: float = 0.5
    name: ClassVar[str] = "blend"
    code: ClassVar[int] = 4
    real_only: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.alpha, "blend alpha", 0.0)

    def param(self) -> float:
        return float(self.alpha)


@dataclass(frozen=True)
class SBX(Crossover):
    """Simulated binary crossover (Deb & Agrawal 1995) with distribution index ``eta``."""

    eta: float = 15.0
    name: ClassVar[str] = "sbx"
    code: ClassVar[int] = 5
    real_only: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.eta, "SBX eta", 0.0)

    def param(self) -> float:
        return float(self.eta)


# Mutation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation(Operator):
    """A per-gene mutation with probability ``rate`` (``None``: 1 / dimension)."""

    rate: float | None = field(default=None, kw_only=True)
    kinds: ClassVar[tuple[str, ...]] = ("f",)
    #: Whether the GA adapts its step size between generations (not the kernel's to apply).
    adaptive: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_probability(self.rate, f"{self.name} mutation rate")

    def param(self) -> float:
        return 0.0

    def gene_rate(self, dim: int) -> float:
        return 1.0 / dim if self.rate is None else float(self.rate)


@dataclass(frozen=True)
class NoMutation(Mutation):
    """Children keep the genes crossover gave them."""

    rate: float | None = field(default=0.0, kw_only=True)
    name: ClassVar[str] = "none"
    code: ClassVar[int] = 0
    kinds: ClassVar[tuple[str, ...]] = ("f", "i", "b")


@dataclass(frozen=True)
class Gaussian(Mutation):
    """Gaussian mutation: ``x += sigma * (high - low) * N(0, 1)``."""

    sigma: float = 0.1
    name: ClassVar[str] = "gaussian"
    code: ClassVar[int] = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.sigma, "gaussian sigma", 0.0, open_low=True)

    def param(self) -> float:
        return float(self.sigma)


@dataclass(frozen=True)
class Polynomial(Mutation):
    """Polynomial mutation (Deb's bounded form) with distribution index ``eta``."""

    eta: float = 20.0
    name: ClassVar[str] = "polynomial"
    code: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.eta, "polynomial eta", 0.0)

    def param(self) -> float:
        return float(self.eta)


@dataclass(frozen=True)
class AdaptiveMutation(Mutation):
    """Gaussian mutation of every gene, ``x += sigma * (high - low) * N(0, 1)``, whose step
    size ``sigma`` the GA adapts as it runs (:mod:`chimera.evolution.self_adaptation`);
    ``sigma`` is where it starts. The breeding kernel leaves these children unmutated and the
    GA mutates them."""

    sigma: float = 0.1
    rate: float | None = field(default=1.0, kw_only=True)
    code: ClassVar[int] = 0  # the kernel's "none"
    adaptive: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.sigma, f"{self.name} sigma", 0.0, open_low=True)
        if self.rate != 1.0:
            raise ValidationError(f"{self.name} mutation moves every gene: its rate is 1.0, "
                                  f"not {self.rate!r}")  # fmt: skip

    def param(self) -> float:
        return float(self.sigma)


@dataclass(frozen=True)
class LogNormal(AdaptiveMutation):
    """Self-adaptation (Schwefel): each individual carries its own step size, a child takes
    its first parent's times ``exp(tau N(0, 1))`` (``tau`` None: ``1 / sqrt(dim)``), and the
    step sizes of the survivors survive with them."""

    tau: float | None = None
    name: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tau is not None:
            real(self.tau, "lognormal tau", 0.0, open_low=True)


@dataclass(frozen=True)
class OneFifth(AdaptiveMutation):
    """Rechenberg's 1/5th success rule, smoothly: one step size for all, multiplied each
    generation by ``exp((p - 1/5) / (4/5) / damping)``, p the share of children better than
    their first parent."""

    damping: float = 1.0
    name: ClassVar[str] = "one_fifth"

    def __post_init__(self) -> None:
        super().__post_init__()
        real(self.damping, "one_fifth damping", 0.0, open_low=True)


@dataclass(frozen=True)
class GESMR(AdaptiveMutation):
    """Group elite step-size mutation (Kumar et al. 2022): the population is split into
    ``groups``; each child in a group tries its group's step size times ``2^U(-1, 1)`` (the
    group's first child keeps it unchanged), and the group takes the step size of its child
    that improved most on its first parent."""

    groups: int = 8
    name: ClassVar[str] = "gesmr"

    def __post_init__(self) -> None:
        super().__post_init__()
        integer(self.groups, "gesmr groups", 1, MAX_GROUPS)


@dataclass(frozen=True)
class BitFlip(Mutation):
    """Bit-flip mutation for boolean genomes."""

    name: ClassVar[str] = "bit_flip"
    code: ClassVar[int] = 3
    kinds: ClassVar[tuple[str, ...]] = ("b",)


@dataclass(frozen=True)
class RandomReset(Mutation):
    """Random reset: a mutated gene becomes a uniform integer in its bounds."""

    name: ClassVar[str] = "random_reset"
    code: ClassVar[int] = 4
    kinds: ClassVar[tuple[str, ...]] = ("i", "b")


SELECTIONS: dict[str, type[Operator]] = {
    c.name: c for c in (Tournament, Truncation, StochasticUniversal)
}
CROSSOVERS: dict[str, type[Operator]] = {
    c.name: c for c in (NoCrossover, SinglePoint, TwoPoint, UniformCrossover, Blend, SBX)
}
_MUTATION_CLASSES = (NoMutation, Gaussian, Polynomial, BitFlip, RandomReset, LogNormal, OneFifth,
                     GESMR)  # fmt: skip
MUTATIONS: dict[str, type[Operator]] = {c.name: c for c in _MUTATION_CLASSES}
#: Each kind's operators by name.
TABLES: dict[str, dict[str, type[Operator]]] = {
    "selection": SELECTIONS, "crossover": CROSSOVERS, "mutation": MUTATIONS,
}  # fmt: skip
_ALIASES = {
    "one_point": "single_point",
    "blx": "blend",
    "stochastic_universal": "sus",
    "bitflip": "bit_flip",
}


def text(op: Operator) -> str:
    """An operator as its name and parameters, e.g. ``sbx(eta=15.0,rate=0.9)``."""
    params = ",".join(f"{k}={v}" for k, v in op.params().items())
    return f"{op.name}({params})"


def refuse_adaptive_mutation(mutation: Operator, algorithm: str) -> None:
    """The adaptive mutations' step sizes live in the GA, which mutates those children itself:
    here the kernels would leave them unmutated."""
    if getattr(mutation, "adaptive", False):
        raise ValidationError(f"mutation {mutation.name!r} adapts its step size in the GA only; "
                              f"{algorithm} takes gaussian or polynomial mutation")  # fmt: skip


def make(kind: str, spec: Any) -> Any:
    """An operator of ``kind`` (a key of :data:`TABLES`) from an instance, a name, or a dict
    ``{"name": ..., **params}``."""
    table = TABLES[kind]
    base = {"selection": Operator, "crossover": Crossover, "mutation": Mutation}[kind]
    if isinstance(spec, Operator):
        _check(type(spec) in table.values(), f"{type(spec).__name__} is not a {kind} operator")
        return spec
    params: dict[str, Any] = {}
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
        _check(isinstance(name, str), f"{kind} given as a table needs a 'name' key, got {spec!r}")
    elif isinstance(spec, str):
        name = spec
    else:
        raise ValidationError(f"{kind} must be an operator, a name or a table, got {spec!r}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in table:
        raise ValidationError(f"unknown {kind} {name!r}{did_you_mean(key, table)}; choose one of "
                              f"{', '.join(sorted(table))}")  # fmt: skip
    cls = table[key]
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - allowed)
    _check(
        not unknown,
        f"unknown option(s) {', '.join(unknown)} for {kind} {key!r}; allowed: {', '.join(sorted(allowed)) or 'none'}",
    )
    op = cls(**params)
    assert isinstance(op, base)
    return op


def mutation_table(dim: int, rate: float) -> np.ndarray:
    """Thresholds ``round(P(Binomial(dim, rate) <= k) * 2^32)`` for the kernels' count draw.

    Tail probabilities are summed from the right so that the entries stay exact where they
    matter (near 1); the table ends where the tail falls below 2^-32. Empty when it would be
    longer than ``MAX_MUTATION_TABLE`` (high rates): the kernels then draw one Bernoulli per
    gene, which is cheaper there anyway.
    """
    if rate <= 0.0 or rate >= 1.0:
        return np.zeros(0, dtype=np.uint32)
    i = np.arange(dim + 1, dtype=np.float64)
    log_choose = np.array(
        [
            math.lgamma(dim + 1) - math.lgamma(k + 1) - math.lgamma(dim - k + 1)
            for k in range(dim + 1)
        ]
    )
    pmf = np.exp(log_choose + i * math.log(rate) + (dim - i) * math.log1p(-rate))
    tail = np.cumsum(pmf[::-1])[::-1]  # tail[k] = P(K >= k)
    above = np.round(np.append(tail[1:], 0.0) * 4294967296.0)  # P(K > k) in units of 2^-32
    count = int(np.argmin(above >= 1.0)) if not (above >= 1.0).all() else dim + 1
    if count > MAX_MUTATION_TABLE:
        return np.zeros(0, dtype=np.uint32)
    return (4294967296.0 - above[:count]).astype(np.uint32)


def probability_threshold(p: float) -> int:
    """A probability as the kernels' 33-bit integer threshold."""
    if not p > 0.0:
        return 0
    if p >= 1.0:
        return 1 << 32
    return int(p * 4294967296.0)

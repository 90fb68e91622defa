"""The in-process bus between the layers: typed messages on named topics, delivered at once
and in order to every subscriber, each counted (the embedded default of DESIGN.md's flows;
Redis Streams is its production twin)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Handler = Callable[[Any], None]

# Topics, in the order a generation publishes them.
EVALUATED = "evaluated"  # Execution -> Refinement, Evolution: a generation's objectives
DECIDED = "decided"  # Refinement -> Evolution: the operator arm that breeds next
BRED = "bred"  # Evolution -> Execution, Refinement: the next genomes and their parents' fitness
CHAMPION = "champion"  # Evolution -> Execution: a new best genome, a deployment candidate
SERVED = "served"  # Execution -> Refinement: the deployed versions' KPIs and canary verdicts


@dataclass(frozen=True)
class Evaluated:
    generation: int
    X: np.ndarray
    F: np.ndarray
    G: np.ndarray | None
    violations: int = 0


@dataclass(frozen=True)
class Decided:
    generation: int
    arm: int


@dataclass(frozen=True)
class Bred:
    generation: int
    X: np.ndarray
    arm: int
    parent_fitness: np.ndarray | None  # the better parent's fitness per child; None at first


@dataclass(frozen=True)
class Champion:
    generation: int
    genome: np.ndarray
    fitness: float


@dataclass(frozen=True)
class Served:
    generation: int
    versions: tuple[str, ...]
    kpis: tuple[float, ...]
    incumbent: str  # the version in service when the batch was routed
    verdicts: tuple[dict[str, Any], ...] = ()


@dataclass
class Bus:
    """Topic -> subscribers; ``publish`` calls each in subscription order."""

    subscribers: dict[str, list[Handler]] = field(default_factory=dict)
    published: Counter[str] = field(default_factory=Counter)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self.subscribers.setdefault(topic, []).append(handler)

    def publish(self, topic: str, message: Any) -> None:
        self.published[topic] += 1
        for handler in self.subscribers.get(topic, ()):
            handler(message)

    def state_dict(self) -> dict[str, Any]:
        return {"published": dict(self.published)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.published = Counter({str(k): int(v) for k, v in state["published"].items()})

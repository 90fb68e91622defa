"""Adaptive operator selection, the loop's decide step: a bandit chooses which arm's operators
breed each generation, credited with the share of the arm's offspring that beat their better
parent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..optimizer import Optimizer
from ..planning.spec import BanditSpec
from ..refinement.bandits import POLICIES, Bandit

# Operator credit drifts as the population converges: a bandit that forgets remembers this
# many generations (EXP3, made for drift, keeps everything).
WINDOW = 20


class OperatorBandit:
    """The bandit over ``spec``'s arms for ``optimizer``, and the credit it was given.

    Each arm is a whole operator set: what the arm names, else the optimizer's own (the
    algorithm's options or defaults), so an arm never inherits from the arm before it. The
    first arm breeds first: it is set on the optimizer at once.
    """

    def __init__(self, spec: BanditSpec, optimizer: Optimizer, *, seed: int | None) -> None:
        self.optimizer = optimizer
        policy = POLICIES[spec.policy]
        options: dict[str, Any] = {"window": WINDOW} if policy.forgets else {}
        self.bandit: Bandit = policy(len(spec.arms), seed=seed if spec.seed is None else spec.seed,
                                     **options)  # fmt: skip
        own = {k: getattr(optimizer, k) for k in optimizer.operator_keys}
        self.arms = [own | dict(arm) for arm in spec.arms]
        self.arm = -1  # the arm set on the optimizer: it bred the pending genomes
        self.next = 0  # the arm decided for the next breeding
        self.credit: list[tuple[int, int, float]] = []  # (generation, arm, reward)
        self.apply(optimizer)

    def apply(self, optimizer: Optimizer) -> None:
        """Sets the decided arm's operators, unless they are set already."""
        if self.next != self.arm:
            optimizer.set_operators(**self.arms[self.next])
            self.arm = self.next

    def decide(self, optimizer: Optimizer, F: npt.ArrayLike) -> None:
        """Credits the arm that bred the pending genomes with the share that beat their
        better parent (from the second generation, when they have parents), and picks the
        next arm."""
        parents, fitness = optimizer.parents, optimizer.fitness
        if parents is not None and fitness is not None:
            sign = optimizer.sign
            better_parent = (sign * fitness)[parents].min(axis=1)
            f = sign * np.asarray(F, dtype=np.float64).reshape(len(better_parent))
            reward = float(np.mean(f < better_parent))
            self.bandit.update(self.arm, reward)
            self.credit.append((optimizer.generation, self.arm, reward))
        self.next = int(self.bandit.select())

    def pulls(self) -> np.ndarray:
        """Generations credited to each arm."""
        return np.bincount([a for _, a, _ in self.credit], minlength=len(self.arms))

    def state_dict(self) -> dict[str, Any]:
        return {"bandit": self.bandit.state_dict(), "arm": self.arm, "next": self.next,
                "credit": np.asarray(self.credit, dtype=np.float64).reshape(-1, 3)}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.bandit.load_state_dict(state["bandit"])
        self.next = int(state["arm"])
        self.apply(self.optimizer)  # the optimizer's checkpoint holds this arm's operators
        self.next = int(state["next"])
        self.credit = [(int(g), int(a), float(r)) for g, a, r in state["credit"].tolist()]

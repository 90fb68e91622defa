"""The Refinement stage (Layer 5): a bandit chooses which arm's operators breed each
generation, credited with the share of the arm's offspring that beat their better parent
(adaptive operator selection); the deployment's A/B gate comes from here; the served KPIs and
canary verdicts are logged for the report."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..execution.deploy import Gate
from ..planning import DeploySpec, Plan
from ..refinement import bandits, gates
from . import bus as b

# Operator credit drifts as the population converges: the bandit remembers this many
# generations (EXP3, made for drift, keeps everything).
WINDOW = 20
_POLICIES: dict[str, type[bandits.Bandit]] = {
    "thompson": bandits.ThompsonSampling,
    "ucb1": bandits.UCB1,
    "epsilon_greedy": bandits.EpsilonGreedy,
    "softmax": bandits.Softmax,
    "exp3": bandits.EXP3,
}


def gate(d: DeploySpec, higher_is_better: bool) -> Gate | None:
    """The A/B gate the spec asks for (None: the Deployment's mean comparison)."""
    if d.gate == "mean":
        return None
    if d.gate == "sequential":
        return gates.sequential_non_inferiority(d.margin, alpha=d.alpha, min_samples=d.min_samples,
                                                higher_is_better=higher_is_better)  # fmt: skip
    return gates.non_inferiority(d.margin, alpha=d.alpha, test=d.gate,
                                 higher_is_better=higher_is_better)  # fmt: skip


class Refinement:
    """The operator bandit and the logs of credit, KPIs and verdicts."""

    def __init__(self, plan: Plan, bus: b.Bus) -> None:
        self.bus = bus
        self.sign = plan.objective.sign
        spec = plan.spec.bandit
        self.bandit: bandits.Bandit | None = None
        if spec is not None:
            seed = spec.seed if spec.seed is not None else plan.spec.seed
            options: dict[str, Any] = {} if spec.policy == "exp3" else {"window": WINDOW}
            self.bandit = _POLICIES[spec.policy](len(spec.arms), seed=seed, **options)
        self._bred: b.Bred | None = None
        self.credit: list[tuple[int, int, float]] = []  # (generation, arm, reward)
        self.kpis: list[tuple[int, str, float, str]] = []  # (generation, version, KPI, role)
        self.verdicts: list[dict[str, Any]] = []
        bus.subscribe(b.BRED, self._on_bred)
        bus.subscribe(b.EVALUATED, self._on_evaluated)
        bus.subscribe(b.SERVED, self._on_served)

    def _on_bred(self, msg: b.Bred) -> None:
        self._bred = msg

    def _on_evaluated(self, msg: b.Evaluated) -> None:
        bred, arm = self._bred, 0
        if self.bandit is not None and bred is not None:
            if bred.parent_fitness is not None:
                F = np.asarray(msg.F, dtype=np.float64)
                reward = float(np.mean(self.sign * F < bred.parent_fitness))
                self.bandit.update(bred.arm, reward)
                self.credit.append((msg.generation, bred.arm, reward))
            arm = int(self.bandit.select())
        self.bus.publish(b.DECIDED, b.Decided(msg.generation, arm))

    def _on_served(self, msg: b.Served) -> None:
        self.kpis.extend(
            (msg.generation, v, k, "incumbent" if v == msg.incumbent else "candidate")
            for v, k in zip(msg.versions, msg.kpis, strict=True)
        )
        self.verdicts.extend(msg.verdicts)

    def state_dict(self) -> dict[str, Any]:
        versions = sorted({v for _, v, _, _ in self.kpis})
        index = {v: i for i, v in enumerate(versions)}
        return {
            "bandit": None if self.bandit is None else self.bandit.state_dict(),
            "credit": np.asarray(self.credit, dtype=np.float64).reshape(-1, 3),
            "versions": versions,
            "kpis": np.asarray([(g, index[v], k, r == "incumbent") for g, v, k, r in self.kpis],
                               dtype=np.float64).reshape(-1, 4),
            "verdicts": self.verdicts,
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.bandit is not None:
            self.bandit.load_state_dict(state["bandit"])
        self.credit = [(int(g), int(a), float(r)) for g, a, r in state["credit"].tolist()]
        versions = state["versions"]
        self.kpis = [(int(g), versions[int(v)], float(k), "incumbent" if r else "candidate")
                     for g, v, k, r in state["kpis"].tolist()]  # fmt: skip
        self.verdicts = list(state["verdicts"])

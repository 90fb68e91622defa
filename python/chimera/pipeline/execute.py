"""The Execution stage (Layer 4): evaluates each generation's genomes (a wasm agent on an
``AgentPool``, a Python objective in one vectorised call) and serves
the deployed versions: the best genome is stored as an artifact and canary-deployed against
the incumbent through a ``Deployment``, whose A/B gate promotes or rolls it back."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._runloop import Evaluator
from ..execution import AgentPool, ArtifactStore, Deployment
from ..execution.deploy import Gate
from ..planning import Plan
from . import bus as b

ARTIFACTS = "artifacts"


class Execution:
    """The evaluators, and the deployment with its artifact store."""

    def __init__(self, plan: Plan, bus: b.Bus, run_dir: Path, gate: Gate | None) -> None:
        self.plan, self.bus = plan, bus
        o = plan.objective
        self.evaluator = Evaluator(o.problem.fun, vectorized=True, executor=None)
        self._bred: b.Bred | None = None
        self.served = 0  # evaluations served to deployed versions
        # Deployment: the versions' genomes by artifact id, and their training fitness.
        self.deploy = plan.spec.deploy
        self.deployment: Deployment | None = None
        self.artifacts = ArtifactStore(run_dir / ARTIFACTS) if self.deploy else None
        self.genomes: dict[str, np.ndarray] = {}
        self.fitness: dict[str, float] = {}
        self.champion: b.Champion | None = None
        self.proposed_at = -(10**9)
        self._gate = gate
        # Last: nothing after it can fail and leave its threads running.
        self.pool = AgentPool(o.agent(), plan.workers) if o.kind == "wasm" else None
        bus.subscribe(b.BRED, self._on_bred)
        bus.subscribe(b.CHAMPION, self._on_champion)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def _objectives(self, X: np.ndarray) -> tuple[Any, Any, dict[int, Any]]:
        if self.pool is not None:
            e = self.pool.evaluate(X)
            if e.violations and self.plan.objective.problem.maximize:
                # The sandbox scores a stopped individual worst for a minimiser: flip it.
                e.fitness[list(e.violations)] = -self.pool.agent.limits.worst_fitness
            return e.fitness, None, e.violations
        F, G = self.evaluator(X)
        return F, G, {}

    def _on_bred(self, msg: b.Bred) -> None:
        self._bred = msg

    def _on_champion(self, msg: b.Champion) -> None:
        self.champion = msg

    def evaluate(self) -> None:
        """Evaluates the genomes Evolution bred last and publishes their objectives."""
        bred = self._bred
        assert bred is not None, "nothing bred to evaluate"
        F, G, violations = self._objectives(bred.X)
        self.bus.publish(b.EVALUATED, b.Evaluated(bred.generation, bred.X, F, G, len(violations)))

    # deployment -----------------------------------------------------------------------

    def _put(self, genome: np.ndarray, generation: int, fitness: float) -> str:
        assert self.artifacts is not None and self.plan.objective.module is not None
        key = self.artifacts.put(self.plan.objective.module, genome,
                                 {"name": self.plan.objective.problem.name,
                                  "generation": generation, "fitness": fitness})  # fmt: skip
        self.genomes[key] = np.asarray(genome, dtype=np.float64)
        self.fitness[key] = fitness
        return key

    def _incumbent(self) -> bool:
        """The deployment exists once there is an incumbent: the spec's genome, else the
        first champion."""
        if self.deployment is not None:
            return True
        assert self.deploy is not None
        if self.deploy.incumbent is not None:
            genome = np.asarray(self.deploy.incumbent, dtype=np.float64)
            F, _, _ = self._objectives(genome[None, :])
            key = self._put(genome, -1, float(np.ravel(F)[0]) * self.plan.objective.sign)
        elif self.champion is not None:
            key = self._put(self.champion.genome, self.champion.generation, self.champion.fitness)
        else:
            return False
        self.deployment = self._deployment(key)
        return True

    def _deployment(self, incumbent: str) -> Deployment:
        d = self.deploy
        assert d is not None
        return Deployment(
            incumbent, canary_share=d.canary_share, min_samples=d.min_samples,
            max_samples=d.max_samples, higher_is_better=self.plan.objective.problem.maximize,
            gate=self._gate, seed=self.plan.spec.seed or 0,
        )  # fmt: skip

    def serve(self, generation: int) -> None:
        """Proposes a better champion when no canary runs (at most every ``every``
        generations), then serves the spec's ``episodes`` evaluations routed by the deployment: each the
        version's genome under Gaussian noise, its objective the KPI."""
        if self.deploy is None or not self._incumbent():
            return
        d, dep = self.deploy, self.deployment
        assert dep is not None
        c = self.champion
        if (dep.candidate is None and c is not None and generation - self.proposed_at >= d.every
                and c.fitness < self.fitness[dep.incumbent]):  # fmt: skip
            key = self._put(c.genome, c.generation, c.fitness)
            rejected = {e["version"] for e in dep.events if e["event"] == "rolled back"}
            if key != dep.incumbent and key not in rejected:  # a rolled-back genome stays out
                dep.propose(key)
                self.proposed_at = generation
        incumbent = dep.incumbent
        tickets = [dep.route() for _ in range(d.episodes)]
        bounds = self.plan.objective.bounds
        rng = np.random.default_rng([self.plan.spec.seed or 0, generation, self.served])
        X = np.stack([self.genomes[t.version] for t in tickets])
        X += rng.standard_normal(X.shape) * d.noise * (bounds[:, 1] - bounds[:, 0])
        np.clip(X, bounds[:, 0], bounds[:, 1], out=X)
        F, _, violations = self._objectives(X)
        kpis = np.asarray(F, dtype=np.float64).reshape(len(tickets), -1).mean(axis=1)
        before = len(dep.events)
        for i, t in enumerate(tickets):
            dep.record(t, failed=True) if i in violations else dep.record(t, float(kpis[i]))
        self.served += len(tickets)
        verdicts = tuple(dict(e, generation=generation) for e in dep.events[before:])
        ok = [i for i in range(len(tickets)) if i not in violations]  # a trap has no KPI
        self.bus.publish(b.SERVED, b.Served(generation, tuple(tickets[i].version for i in ok),
                                            tuple(float(kpis[i]) for i in ok), incumbent,
                                            verdicts))  # fmt: skip

    def settle(self, generation: int, seconds: float | None = None) -> bool:
        """Serves until the running canary has a verdict (the deployment rolls back one still
        undecided at max_samples), for at most ``seconds``; a canary undecided then is rolled
        back. False if there is none to settle."""
        dep, d = self.deployment, self.deploy
        if dep is None or d is None or dep.candidate is None:
            return False
        share = min(d.canary_share, 1 - d.canary_share)
        # Enough rounds for max_samples a side with near certainty: the gate decides before.
        rounds = math.ceil(10 * d.max_samples / (d.episodes * share)) + 10
        deadline = None if seconds is None else time.monotonic() + seconds
        for _ in range(rounds):
            if dep.candidate is None or (deadline is not None and time.monotonic() >= deadline):
                break
            self.serve(generation)
        if dep.rollback("undecided when the run ended") is not None:
            verdict = dict(dep.events[-1], generation=generation)
            self.bus.publish(b.SERVED, b.Served(generation, (), (), dep.incumbent, (verdict,)))
        return True

    def state_dict(self) -> dict[str, Any]:
        c = self.champion
        return {
            "deployment": None if self.deployment is None else self.deployment.state_dict(),
            "fitness": self.fitness, "served": self.served, "proposed_at": self.proposed_at,
            "champion": None if c is None else [c.generation, c.genome, c.fitness],
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.served, self.proposed_at = int(state["served"]), int(state["proposed_at"])
        self.fitness = {str(k): float(v) for k, v in state["fitness"].items()}
        if state["champion"] is not None:
            g, genome, f = state["champion"]
            self.champion = b.Champion(int(g), np.asarray(genome, dtype=np.float64), float(f))
        if state["deployment"] is not None:
            assert self.artifacts is not None and self.deploy is not None
            self.genomes = {k: self.artifacts.get(k).genome for k in self.fitness}
            self.deployment = self._deployment(state["deployment"]["incumbent"])
            self.deployment.load_state_dict(state["deployment"])

"""The canary, the loop's serve step: the best genome so far is stored as an artifact and
canary-deployed against the version in service, and every generation the deployed versions
serve on a :class:`~chimera.execution.ServingPool`; the deployment's A/B gate promotes the
candidate or rolls it back.

A served evaluation is a version's genome jittered by Gaussian noise (``noise`` times each
gene's range, clipped to the bounds): a deployed policy must be robust to it, and the gate
sees a spread. Each served evaluation is its own ticket, and its objective is the KPI.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..execution import ArtifactStore, Deployment, ServingPool
from ..loop import Evaluate
from ..optimizer import Optimizer
from ..planning import Plan
from ..refinement.gates import gate

ARTIFACTS = "artifacts"


class Canary:
    """The deployment of ``plan``'s spec, its versions' artifacts and what they served."""

    def __init__(self, plan: Plan, run_dir: Path, evaluate: Evaluate) -> None:
        assert plan.spec.deploy is not None and plan.objective.module is not None
        self.plan, self.deploy, self.evaluate = plan, plan.spec.deploy, evaluate
        self.objective = plan.objective
        self.seed = plan.spec.seed or 0
        self.artifacts = ArtifactStore(run_dir / ARTIFACTS)
        self.serving: ServingPool | None = None  # once there is an incumbent
        self.fitness: dict[str, float] = {}  # each version's training fitness, minimised
        self.champion: tuple[int, np.ndarray, float] | None = None  # generation, genome, fitness
        self.best_f = np.inf  # the champion's fitness, minimised
        self.served = 0  # evaluations served
        self.proposed_at = -(10**9)
        self.kpis: list[tuple[int, str, float, str]] = []  # (generation, version, KPI, role)
        self.verdicts: list[dict[str, Any]] = []

    @property
    def deployment(self) -> Deployment | None:
        return None if self.serving is None else self.serving.deployment

    def close(self) -> None:
        if self.serving is not None:
            self.serving.close()

    def serve(self, optimizer: Optimizer) -> None:
        """Follows the optimizer's best genome, proposes it as the candidate when it beats
        the incumbent and no canary runs (at most every ``every`` generations), then serves
        one round of the spec's ``episodes``."""
        generation = optimizer.generation - 1
        best_x = optimizer.best_x
        if optimizer.n_obj == 1 and best_x is not None:
            best = optimizer.sign * optimizer.best_f
            if best < self.best_f:
                self.best_f, self.champion = best, (generation, best_x, best)
        if not self._in_service():
            return
        dep = self.deployment
        assert dep is not None and self.serving is not None
        c = self.champion
        if (dep.candidate is None and c is not None
                and generation - self.proposed_at >= self.deploy.every
                and c[2] < self.fitness[dep.incumbent]):  # fmt: skip
            key = self._put(*c)
            rejected = {e["version"] for e in dep.events if e["event"] == "rolled back"}
            if key != dep.incumbent and key not in rejected:  # a rolled-back genome stays out
                self.serving.propose(key)
                self.proposed_at = generation
        self._round(generation)

    def settle(self, generation: int, seconds: float | None = None) -> None:
        """Serves until the running canary has a verdict (the deployment rolls back one still
        undecided at max_samples), for at most ``seconds``; a canary undecided then is rolled
        back."""
        dep, d = self.deployment, self.deploy
        if dep is None or dep.candidate is None:
            return
        share = min(d.canary_share, 1 - d.canary_share)
        # Enough rounds for max_samples a side with near certainty: the gate decides before.
        rounds = math.ceil(10 * d.max_samples / (d.episodes * share)) + 10
        deadline = None if seconds is None else time.monotonic() + seconds
        for _ in range(rounds):
            if dep.candidate is None or (deadline is not None and time.monotonic() >= deadline):
                break
            self._round(generation)
        if dep.rollback("undecided when the run ended") is not None:
            self.verdicts.append(dict(dep.events[-1], generation=generation))

    def _round(self, generation: int) -> None:
        """``episodes`` served evaluations, each routed by the deployment on its own ticket."""
        dep, serving, d = self.deployment, self.serving, self.deploy
        assert dep is not None and serving is not None
        bounds = self.objective.bounds
        rng = np.random.default_rng([self.seed, generation, self.served])
        noise = rng.standard_normal((d.episodes, bounds.shape[0])) * d.noise * (
            bounds[:, 1] - bounds[:, 0])  # fmt: skip
        incumbent, before = dep.incumbent, len(dep.events)
        for s in serving.serve(noise):
            if not s.evaluation.violations:  # a trap has no KPI
                role = "incumbent" if s.version == incumbent else "candidate"
                kpi = float(np.mean(s.evaluation.fitness))
                self.kpis.append((generation, s.version, kpi, role))
        self.served += d.episodes
        self.verdicts.extend(dict(e, generation=generation) for e in dep.events[before:])

    def _jittered(self, genome: np.ndarray, noise: np.ndarray) -> np.ndarray:
        bounds = self.objective.bounds
        return np.clip(genome + noise, bounds[:, 0], bounds[:, 1])

    def _in_service(self) -> bool:
        """The deployment exists once there is an incumbent: the spec's genome, else the
        first champion."""
        if self.serving is not None:
            return True
        if self.deploy.incumbent is not None:
            genome = np.asarray(self.deploy.incumbent, dtype=np.float64)
            F, _ = self.evaluate(genome[None, :])
            key = self._put(-1, genome, float(np.ravel(F)[0]) * self.objective.sign)
        elif self.champion is not None:
            key = self._put(*self.champion)
        else:
            return False
        self._open(key)
        return True

    def _open(self, incumbent: str) -> None:
        d = self.deploy
        maximize = self.objective.problem.maximize
        deployment = Deployment(
            incumbent, canary_share=d.canary_share, min_samples=d.min_samples,
            max_samples=d.max_samples, higher_is_better=maximize, seed=self.seed,
            gate=gate(d.gate, margin=d.margin, alpha=d.alpha, min_samples=d.min_samples,
                      higher_is_better=maximize),
        )  # fmt: skip
        self.serving = ServingPool(self.artifacts, deployment, workers=self.plan.workers,
                                   limits=self.objective.limits, inputs=self._jittered)  # fmt: skip

    def _put(self, generation: int, genome: np.ndarray, fitness: float) -> str:
        assert self.objective.module is not None
        key = self.artifacts.put(self.objective.module, genome,
                                 {"name": self.objective.problem.name,
                                  "generation": generation, "fitness": fitness})  # fmt: skip
        self.fitness[key] = fitness
        return key

    def state_dict(self) -> dict[str, Any]:
        dep, c = self.deployment, self.champion
        versions = sorted({v for _, v, _, _ in self.kpis})
        index = {v: i for i, v in enumerate(versions)}
        return {
            "deployment": None if dep is None else dep.state_dict(),
            "fitness": self.fitness, "served": self.served, "proposed_at": self.proposed_at,
            "champion": None if c is None else list(c), "best_f": self.best_f,
            "versions": versions,
            "kpis": np.asarray([(g, index[v], k, r == "incumbent") for g, v, k, r in self.kpis],
                               dtype=np.float64).reshape(-1, 4),
            "verdicts": self.verdicts,
        }  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.served, self.proposed_at = int(state["served"]), int(state["proposed_at"])
        self.fitness = {str(k): float(v) for k, v in state["fitness"].items()}
        self.best_f = float(state["best_f"])
        if state["champion"] is not None:
            g, genome, f = state["champion"]
            self.champion = (int(g), np.asarray(genome, dtype=np.float64), float(f))
        versions = state["versions"]
        self.kpis = [(int(g), versions[int(v)], float(k), "incumbent" if r else "candidate")
                     for g, v, k, r in state["kpis"].tolist()]  # fmt: skip
        self.verdicts = list(state["verdicts"])
        if state["deployment"] is not None:
            self._open(state["deployment"]["incumbent"])
            assert self.deployment is not None
            self.deployment.load_state_dict(state["deployment"])

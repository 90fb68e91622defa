"""The Evolution stage (Layers 6-7): takes a generation's objectives and Refinement's operator
choice, tells the optimizer, commits the generation to the genome store, and breeds the next
genomes with the chosen arm's operators."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._runloop import History, Optimizer, tell
from ..evolution.ga import GA
from ..evolution.store import GenomeStore
from ..planning import Plan
from . import bus as b


class Evolution:
    """The optimizer, its genome store run, and the history of the generations told."""

    def __init__(self, plan: Plan, bus: b.Bus, store: GenomeStore, history: History) -> None:
        self.plan, self.bus, self.store, self.history = plan, bus, store, history
        self.opt: Optimizer = plan.optimizer()
        self.run = self._store_run()
        bandit = plan.spec.bandit
        self._arms = [plan.arm_operators(i) for i in range(len(bandit.arms))] if bandit else []
        self.arm = 0
        self.pop_ids: np.ndarray | None = None
        self.best_f = np.inf  # in the minimising sense, as the optimizer keeps it
        self._evaluated: b.Evaluated | None = None
        self.start = time.perf_counter()
        self.elapsed0 = 0.0
        bus.subscribe(b.EVALUATED, self._keep)
        bus.subscribe(b.DECIDED, self._on_decided)

    def _store_run(self) -> int:
        """The run's id in the genome store: the folder's one run, created at the start."""
        experiment = self.store.experiment(self.plan.spec.name, spec=self.plan.spec.source)
        existing = self.store.runs(experiment)
        if existing.num_rows:
            return int(existing.column("id")[0].as_py())
        opt = self.opt
        return self.store.create_run(
            experiment, backend=opt.backend, dim=opt.dim, dtype=str(opt.dtype),
            n_obj=self.plan.objective.n_obj, n_constr=self.plan.n_constr, seed=opt.seed,
            config=opt.config(),
        )  # fmt: skip

    def elapsed(self) -> float:
        return self.elapsed0 + time.perf_counter() - self.start

    def breed(self) -> None:
        """Asks the optimizer for its next genomes and publishes them."""
        X = self.opt.ask()
        parents = self.opt.parents
        parent_f = None
        fitness = getattr(self.opt, "fitness", None)
        if parents is not None and fitness is not None and np.ndim(fitness) == 1:
            parent_f = (self.plan.objective.sign * np.asarray(fitness))[parents].min(axis=1)
        self.bus.publish(b.BRED, b.Bred(self.opt.generation, X, self.arm, parent_f))

    def _keep(self, msg: b.Evaluated) -> None:
        self._evaluated = msg

    def _on_decided(self, msg: b.Decided) -> None:
        evaluated, self._evaluated = self._evaluated, None
        assert evaluated is not None, "a decision came before the generation's objectives"
        new_ids = self._commit(evaluated)
        tell(self.opt, evaluated.F, evaluated.G)
        self.history.record(self.opt, self.elapsed())
        self._track_survivors(new_ids)
        self._champion()
        if msg.arm != self.arm:
            self.use_arm(msg.arm)
        self.breed()

    def use_arm(self, arm: int) -> None:
        """Breed from now on with bandit arm ``arm``'s operators."""
        assert isinstance(self.opt, GA) and self.plan.spec.bandit is not None
        self.opt.set_operators(**self._arms[arm])
        self.arm = arm

    def _commit(self, e: b.Evaluated) -> np.ndarray:
        """The generation, with its parents' genome ids, in one store transaction; returns
        the new genomes' ids."""
        parents = self.opt.parents
        ids = None if parents is None or self.pop_ids is None else self.pop_ids[parents]
        return self.store.add_generation(
            self.run, self.opt.generation, e.X, np.asarray(e.F, dtype=np.float64), e.G,
            parents=ids, operators=self.opt.operators, backend=self.opt.backend,
        )  # fmt: skip

    def _track_survivors(self, new_ids: np.ndarray) -> None:
        survivors = self.opt.survivors
        assert survivors is not None
        previous = self.pop_ids if self.pop_ids is not None else np.full(len(survivors), -1)
        self.pop_ids = np.concatenate([previous, new_ids])[survivors]

    def _champion(self) -> None:
        """A new best genome (one objective) goes to Execution as a deployment candidate."""
        if not isinstance(self.opt, GA) or self.opt.best_x is None:
            return
        best_x = self.opt.best_x
        raw = self.plan.objective.sign * self.opt.best_f
        if raw < self.best_f:
            self.best_f = raw
            self.bus.publish(b.CHAMPION, b.Champion(self.opt.generation - 1, best_x, raw))

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.opt.state_dict(), "arm": self.arm, "pop_ids": self.pop_ids,
                "best_f": self.best_f, "elapsed_s": self.elapsed(),
                "history": self.history.state_dict()}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["arm"]) != self.arm:
            self.use_arm(int(state["arm"]))
        self.opt.load_state_dict(state["optimizer"])
        self.pop_ids = None if state["pop_ids"] is None else np.asarray(state["pop_ids"], np.int64)
        self.best_f = float(state["best_f"])
        self.elapsed0 = float(state["elapsed_s"])
        self.start = time.perf_counter()
        self.history.load_state_dict(state["history"])

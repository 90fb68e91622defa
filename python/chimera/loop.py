"""The generation loop, written once: ``chimera.minimize`` and ``chimera run`` both run it.

A generation is six plain calls, in this order:

1. **breed**: the optimizer's next genomes (``ask``), bred with the operators decided last;
2. **evaluate**: the objective on them;
3. **decide**: the operator bandit credits the operators that bred them and picks the next;
4. **commit**: the generation goes to the genome store with its parents, to the optimizer
   (``tell``: survival) and to the history;
5. **serve**: the deployed versions serve, a better genome becomes a canary;
6. **checkpoint**: the whole loop's state, from which a killed run resumes bit for bit.

``minimize`` runs only breed, evaluate and commit; a spec's run adds the stages it asks for.
There is no bus: a generation's steps each need the one before, in one process, so they are
calls (docs/architecture.md says more). Each step's calls and seconds are counted, to set
beside what the plan predicted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from . import _validate
from ._errors import ValidationError
from .history import History
from .optimizer import Optimizer

STEPS = ("breed", "evaluate", "decide", "commit", "serve", "checkpoint")
_FORMAT = "chimera.loop/1"

#: An objective on a population: ``X -> (F, G)``, ``G`` None without constraints.
Evaluate = Callable[[np.ndarray], tuple[npt.ArrayLike, npt.ArrayLike | None]]


class DecideStage(Protocol):
    """Adaptive operator selection: a bandit over operator arms."""

    def apply(self, optimizer: Optimizer) -> None:
        """Sets the operators decided last on the optimizer, before it breeds."""

    def decide(self, optimizer: Optimizer, F: npt.ArrayLike) -> None:
        """Credits the operators that bred the pending genomes from their objectives ``F``,
        and picks those that breed next."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class CommitStage(Protocol):
    """The genome store's record of the run, with each genome's parents."""

    def store(
        self, optimizer: Optimizer, X: np.ndarray, F: npt.ArrayLike, G: npt.ArrayLike | None
    ) -> None:
        """Writes the evaluated generation with its parents, before the optimizer takes it."""

    def survived(self, optimizer: Optimizer) -> None:
        """Follows which stored genomes the optimizer kept."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class ServeStage(Protocol):
    """Deployed versions serving while the run goes on: a canary."""

    def serve(self, optimizer: Optimizer) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class Budget:
    """Where a run stops: the first of these reached (None: not limited). ``evals`` counts
    the optimizer's evaluations: a generation that would pass it does not start."""

    evals: int | None = None
    seconds: float | None = None
    generations: int | None = None

    def __post_init__(self) -> None:
        for name in ("evals", "generations"):
            if (value := getattr(self, name)) is not None:
                _validate.integer(value, f"budget {name}")
        if self.seconds is not None:
            _validate.seconds(self.seconds, "budget seconds")

    @property
    def limited(self) -> bool:
        return (self.evals, self.seconds, self.generations) != (None, None, None)

    def spent(self, optimizer: Optimizer, elapsed_s: float) -> str | None:
        """Why no further generation may start, or None."""
        if self.generations is not None and optimizer.generation >= self.generations:
            return f"generation budget of {self.generations} spent"
        if self.evals is not None and optimizer.nfev + optimizer.batch_size > self.evals:
            return f"evaluation budget of {self.evals} spent"
        if self.seconds is not None and elapsed_s >= self.seconds:
            return f"time budget of {self.seconds:g} s spent"
        return None


class Loop:
    """Runs ``optimizer`` on ``evaluate`` within ``budget``, generation by generation.

    ``bandit`` (decide), ``lineage`` (commit), ``canary`` (serve) and ``checkpoint`` are the
    optional stages (see the
    module docstring); ``checkpoint(generation, state)`` saves :meth:`state_dict`.
    ``callback(optimizer)`` runs after each generation, and True from it stops the run.
    """

    def __init__(self, optimizer: Optimizer, evaluate: Evaluate, *, history: History,
                 budget: Budget, bandit: DecideStage | None = None,
                 lineage: CommitStage | None = None, canary: ServeStage | None = None,
                 checkpoint: Callable[[int, dict[str, Any]], None] | None = None,
                 callback: Callable[[Optimizer], bool | None] | None = None) -> None:  # fmt: skip
        if not isinstance(optimizer, Optimizer):
            raise ValidationError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
        if not isinstance(budget, Budget):
            raise ValidationError(f"budget must be a Budget, got {type(budget).__name__}")
        if not budget.limited and callback is None:
            raise ValidationError("budget limits nothing and no callback stops the run: give "
                                  "Budget(evals=..., seconds=... or generations=...)")  # fmt: skip
        for name, hook in (("evaluate", evaluate), ("checkpoint", checkpoint),
                           ("callback", callback)):  # fmt: skip
            if hook is not None and not callable(hook):
                raise ValidationError(f"{name} must be callable, got {type(hook).__name__}")
        self.optimizer, self.evaluate, self.history, self.budget = (
            optimizer, evaluate, history, budget)  # fmt: skip
        self.bandit, self.lineage, self.canary = bandit, lineage, canary
        self.checkpoint, self.callback = checkpoint, callback
        self.calls = dict.fromkeys(STEPS, 0)
        self.seconds = dict.fromkeys(STEPS, 0.0)
        self._elapsed0 = 0.0
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds the run has taken, across resumes."""
        return self._elapsed0 + time.perf_counter() - self._start

    def run(self, *, progress: bool = False, total: int | None = None) -> str:
        """Generations until the budget is spent or the callback says stop; returns why.
        ``total``: the generations the whole run is expected to take, for the progress bar
        (a resumed run's bar starts where it resumed)."""
        with Progress(total, enabled=progress, completed=self.optimizer.generation) as bar:
            while (reason := self.budget.spent(self.optimizer, self.elapsed())) is None:
                if self.optimizer.stop_reason is not None:
                    return self.optimizer.stop_reason
                self.generation()
                bar.advance(self.history.status())
                if self.callback is not None and self.callback(self.optimizer):
                    return "stopped by callback"
        return reason

    def generation(self) -> None:
        """One generation: breed, evaluate, decide, commit, serve, checkpoint."""
        opt = self.optimizer
        t = time.perf_counter()
        if self.bandit is not None:
            self.bandit.apply(opt)
        X = opt.ask()
        t = self._took("breed", t)
        F, G = self.evaluate(X)
        t = self._took("evaluate", t)
        if self.bandit is not None:
            self.bandit.decide(opt, F)
            t = self._took("decide", t)
        if self.lineage is not None:
            self.lineage.store(opt, X, F, G)  # before tell: survival may reuse X's rows
        opt.tell(F, G)
        if self.lineage is not None:
            self.lineage.survived(opt)
        self.history.record(opt, self.elapsed())
        t = self._took("commit", t)
        if self.canary is not None:
            self.canary.serve(opt)
            t = self._took("serve", t)
        if self.checkpoint is not None:
            self.calls["checkpoint"] += 1  # before the state it saves, which counts it
            self.checkpoint(opt.generation, self.state_dict())
            self.seconds["checkpoint"] += time.perf_counter() - t

    def _took(self, step: str, since: float) -> float:
        """Counts a call of ``step`` that began at ``since``; returns now."""
        now = time.perf_counter()
        self.calls[step] += 1
        self.seconds[step] += now - since
        return now

    def steps(self) -> dict[str, dict[str, float]]:
        """Calls and seconds of each step that ran."""
        return {s: {"calls": self.calls[s], "seconds": self.seconds[s]}
                for s in STEPS if self.calls[s]}  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs: the optimizer, the history, the clock, the step
        counts and every stage's state."""
        stages = {"bandit": self.bandit, "lineage": self.lineage, "canary": self.canary}
        return {
            "format": _FORMAT,
            "optimizer": self.optimizer.state_dict(),
            "history": self.history.state_dict(),
            "elapsed_s": self.elapsed(),
            "steps": np.array([[self.calls[s], self.seconds[s]] for s in STEPS]),
            **{k: None if s is None else s.state_dict() for k, s in stages.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continues from a :meth:`state_dict`: the same stages must be present."""
        if not isinstance(state, Mapping) or state.get("format") != _FORMAT:
            raise ValidationError(f"not a loop checkpoint (expected format {_FORMAT!r})")
        stages = {"bandit": self.bandit, "lineage": self.lineage, "canary": self.canary}
        for key, stage in stages.items():
            if (stage is None) != (state.get(key) is None):
                raise ValidationError(f"checkpoint and run differ in their {key} stage")
        for key, stage in stages.items():  # the bandit first: the optimizer's config holds its arm
            if stage is not None:
                stage.load_state_dict(state[key])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history.load_state_dict(state["history"])
        steps = np.asarray(state["steps"], dtype=np.float64).reshape(len(STEPS), 2)
        self.calls = {s: int(c) for s, c in zip(STEPS, steps[:, 0], strict=True)}
        self.seconds = {s: float(v) for s, v in zip(STEPS, steps[:, 1], strict=True)}
        self._elapsed0 = float(state["elapsed_s"])
        self._start = time.perf_counter()


class Progress:
    """A rich progress bar over generations that costs nothing when disabled."""

    def __init__(self, total: int | None, *, enabled: bool, completed: int = 0) -> None:
        self.enabled, self.total, self.completed = enabled, total, completed
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]generation"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("run", total=self.total, completed=self.completed,
                                            status="")  # fmt: skip
        return self

    def advance(self, status: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=status)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

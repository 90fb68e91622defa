"""The run in the genome store, part of the loop's commit step: every evaluated generation with
its objectives and its genomes' parents, in one transaction a generation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..evolution.store import GenomeStore
from ..optimizer import Optimizer
from ..planning import Spec


class Lineage:
    """The run's genomes in ``store``, and the ids of the optimizer's population, so that each
    new genome names its parents by id."""

    def __init__(self, store: GenomeStore, spec: Spec, optimizer: Optimizer, *,
                 n_constr: int) -> None:  # fmt: skip
        self.genomes = store
        experiment = store.experiment(spec.name, spec=spec.source)
        existing = store.runs(experiment)
        if existing.num_rows:  # the folder's one run, created when it started
            self.run = int(existing.column("id")[0].as_py())
        else:
            o = optimizer
            self.run = store.create_run(
                experiment, backend=o.backend, dim=o.dim, dtype=str(o.dtype), n_obj=o.n_obj,
                n_constr=n_constr, seed=o.seed, config=o.config(),
            )  # fmt: skip
        self.pop_ids: np.ndarray | None = None  # store ids of the optimizer's population
        self._new_ids: np.ndarray | None = None

    def store(
        self, optimizer: Optimizer, X: np.ndarray, F: npt.ArrayLike, G: npt.ArrayLike | None
    ) -> None:
        """Writes the evaluated generation, each genome with its parents' ids."""
        parents = optimizer.parents
        ids = None if parents is None or self.pop_ids is None else self.pop_ids[parents]
        self._new_ids = self.genomes.add_generation(
            self.run, optimizer.generation, X, np.asarray(F, dtype=np.float64), G, parents=ids,
            operators=optimizer.operators, backend=optimizer.backend,
        )  # fmt: skip

    def survived(self, optimizer: Optimizer) -> None:
        """Follows the stored ids into the population the optimizer kept."""
        survivors, new = optimizer.survivors, self._new_ids
        if survivors is None or new is None:
            self.pop_ids = None
            return
        previous = self.pop_ids if self.pop_ids is not None else np.full(len(survivors), -1)
        self.pop_ids = np.concatenate([previous, new])[survivors]

    def truncate(self, generation: int) -> None:
        """Drops what was stored after ``generation`` (a resumed run writes it again)."""
        self.genomes.truncate(self.run, generation)

    def state_dict(self) -> dict[str, Any]:
        return {"pop_ids": self.pop_ids}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        ids = state["pop_ids"]
        self.pop_ids = None if ids is None else np.asarray(ids, dtype=np.int64)

"""Per-generation statistics of a run, one row per generation, as an Arrow table.

One objective: the best fitness so far and the population's min, mean, max and spread.
Several: the Pareto front's size, the feasible share, the hypervolume against a reference
point (when one is given) and each objective's range in the population.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ._errors import ValidationError
from .indicators import hypervolume
from .optimizer import Optimizer


def _schema(*statistics: tuple[str, pa.DataType]) -> pa.Schema:
    """A history row: the generation, the evaluations so far, ``statistics``, the seconds."""
    return pa.schema([("generation", pa.int64()), ("nfev", pa.int64()), *statistics,
                      ("elapsed_s", pa.float64())])  # fmt: skip


SINGLE_SCHEMA = _schema(("best", pa.float64()), ("min", pa.float64()), ("mean", pa.float64()),
                        ("max", pa.float64()), ("std", pa.float64()))  # fmt: skip
MULTI_SCHEMA = _schema(("front_size", pa.int64()), ("feasible", pa.float64()),
                       ("hypervolume", pa.float64()), ("f_min", pa.list_(pa.float64())),
                       ("f_max", pa.list_(pa.float64())))  # fmt: skip


class History:
    """Per-generation statistics, one row per ``record``; ``table()`` as pyarrow."""

    def __init__(
        self, multi: bool, ref_point: npt.ArrayLike | None = None, n_obj: int | None = None
    ) -> None:
        self.schema = MULTI_SCHEMA if multi else SINGLE_SCHEMA
        self.multi = multi
        self.ref_point = None
        if ref_point is not None:
            try:
                ref = np.asarray(ref_point, dtype=np.float64)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ValidationError(f"ref_point must be numeric: {exc}") from exc
            if not multi or ref.shape != (n_obj,) or not np.isfinite(ref).all():
                raise ValidationError(
                    f"ref_point must be {n_obj} finite numbers, one per objective, for a "
                    f"multi-objective run; got {ref_point!r}"
                )
            self.ref_point = ref
        self.rows: list[tuple[Any, ...]] = []

    def record(self, opt: Optimizer, elapsed_s: float) -> None:
        """A row for the optimizer's current population, ``elapsed_s`` into the run."""
        if self.multi:
            F, cv = opt.objectives, opt.violation
            assert F is not None and cv is not None
            front = opt.pareto_f
            hv = np.nan
            if self.ref_point is not None and front.shape[0]:
                hv = hypervolume(front, self.ref_point)
            finite = np.isfinite(F)
            seen = finite.any(axis=0)
            lo = np.where(seen, np.where(finite, F, np.inf).min(axis=0), np.nan)
            hi = np.where(seen, np.where(finite, F, -np.inf).max(axis=0), np.nan)
            row: tuple[Any, ...] = (
                opt.generation, opt.nfev, front.shape[0], float((cv <= 0).mean()), hv,
                lo.tolist(), hi.tolist(), elapsed_s,
            )  # fmt: skip
        else:
            fit = opt.fitness
            assert fit is not None
            f = fit[np.isfinite(fit)]
            stats = (
                (float(f.min()), float(f.mean()), float(f.max()), float(f.std()))
                if f.size
                else (np.nan,) * 4
            )
            row = (opt.generation, opt.nfev, opt.best_f, *stats, elapsed_s)
        self.rows.append(row)

    def status(self) -> str:
        """A few words on the last row, for the progress bar."""
        if not self.rows:
            return ""
        row = self.rows[-1]
        if self.multi:
            hv = "" if np.isnan(row[4]) else f", hypervolume {row[4]:.6g}"
            return f"front {row[2]}{hv}"
        return f"best {row[2]:.6g}"

    def state_dict(self) -> dict[str, Any]:
        """The rows as one array per column (a checkpoint stores arrays fast, nested lists
        slowly)."""
        n = len(self.schema)
        return {"columns": [np.asarray([row[i] for row in self.rows], dtype=np.float64)
                            for i in range(n)]}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        columns = [np.asarray(c) for c in state["columns"]]
        if len(columns) != len(self.schema) or len({len(c) for c in columns}) > 1:
            raise ValidationError("checkpoint history has the wrong columns")
        ints = {i for i, f in enumerate(self.schema) if pa.types.is_integer(f.type)}
        self.rows = [
            tuple(int(v) if i in ints else v for i, v in enumerate(row))
            for row in zip(*(c.tolist() for c in columns), strict=True)
        ]

    def table(self) -> pa.Table:
        columns = [[row[i] for row in self.rows] for i in range(len(self.schema))]
        return pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )

"""A run folder: what a run writes, and the tables in it.

```
spec.toml           the spec it runs (a resume reads it back)
plan.json           the validated plan and its prediction
genomes.sqlite      the genome store: every evaluated genome, its objectives and parents
checkpoints/        every stage's state after each generation, written atomically
history.parquet     per-generation statistics (best, mean, ... or hypervolume, front size)
operators.parquet   the bandit's arm and credit per generation
kpis.parquet        served evaluations of the deployed versions (chimera.kpi's schema)
deployments.json    the canaries and their verdicts
artifacts/          the deployed versions (content-addressed module + genome)
result.json         the outcome and the budgets' use; written last, when the run is complete
report.html         the report and its PNG plots
```
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import kpi
from .._durable import replacing, write_atomic

SPEC = "spec.toml"
PLAN = "plan.json"
STORE = "genomes.sqlite"
CHECKPOINTS = "checkpoints"
HISTORY = "history.parquet"
OPERATORS = "operators.parquet"
KPIS = "kpis.parquet"
DEPLOYMENTS = "deployments.json"
RESULT = "result.json"
RESUMES = "resumes.json"  # each resume: the generation it continued after, and when
REPORT = "report.html"

OPERATOR_SCHEMA = pa.schema(
    [("generation", pa.int64()), ("arm", pa.int64()), ("reward", pa.float64())]
)


def write_table(path: Path, table: pa.Table) -> None:
    """Writes a Parquet file whole or not at all."""
    with replacing(path) as tmp:
        pq.write_table(table, tmp)


def write_json(path: Path, data: Any) -> None:
    """Writes a JSON file whole or not at all."""
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def operator_table(credit: list[tuple[int, int, float]]) -> pa.Table:
    cols: list[Any] = list(zip(*credit, strict=True)) if credit else [[], [], []]
    return pa.table([pa.array(c, type=f.type) for c, f in zip(cols, OPERATOR_SCHEMA, strict=True)],
                    schema=OPERATOR_SCHEMA)  # fmt: skip


def kpi_table(agent: str, rows: list[tuple[int, str, float, str]], start: dt.datetime) -> pa.Table:
    """Served KPIs as KPI records (:mod:`chimera.kpi`): metric "served_fitness", tagged with the generation
    and whether the version served as incumbent or candidate. Timestamps are the run's start
    plus the generation, in seconds, so that a resumed run writes the same table."""
    records = [
        {"agent_id": agent, "version": version[:12], "metric": "served_fitness", "value": value,
         "timestamp": start + dt.timedelta(seconds=generation),
         "tags": {"generation": str(generation),
                  "role": role}}
        for generation, version, value, role in rows
    ]  # fmt: skip
    return kpi.records(records) if records else kpi.KPI_SCHEMA.empty_table()

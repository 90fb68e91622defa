"""KPI records, the data type the layers share: the schema every source is read into (the
discovery collectors, the canary's served evaluations, a service's streams), ingestion from
Arrow tables, Parquet and CSV files and an in-process stream, and windowed aggregates per
agent and version.

A record is (agent_id, version, metric, value, timestamp, tags): which agent, which version of
it, which measurement, its value, when (UTC, microseconds), and free-form string tags. Arrow
(pyarrow) holds and aggregates them: columnar, zero-copy to Parquet, and fast group-bys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ._errors import ArgumentTypeError, ValidationError
from ._validate import integer, iterable
from ._validate import path as path_

KPI_SCHEMA = pa.schema(
    [
        pa.field("agent_id", pa.string(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("tags", pa.map_(pa.string(), pa.string())),
    ]
)
REQUIRED = ("agent_id", "version", "metric", "value", "timestamp")
AGGREGATES = ("count", "mean", "min", "max", "stddev")


def from_table(table: pa.Table, source: str = "table") -> pa.Table:
    """``table`` cast to :data:`KPI_SCHEMA` (``tags`` may be absent); a clear error names the
    missing columns, a column that cannot be cast, or a null or non-finite value."""
    if not isinstance(source, str):
        raise ArgumentTypeError(f"source must be a str naming where the table came from, got "
                                f"{source!r:.40}")  # fmt: skip
    if not isinstance(table, pa.Table):
        raise ArgumentTypeError(f"{source}: table must be a pyarrow Table, got "
                                f"{type(table).__name__}")  # fmt: skip
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise ValidationError(
            f"{source} lacks the KPI column(s) {', '.join(missing)}; a KPI table needs "
            f"{', '.join(REQUIRED)} (and optionally tags); it has {', '.join(table.column_names)}"
        )
    columns = []
    for field in KPI_SCHEMA:
        if field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        col = table.column(field.name)
        if field.name == "timestamp" and pa.types.is_timestamp(col.type) and col.type.tz is None:
            col = pc.assume_timezone(col, "UTC")  # naive times are read as UTC
        try:
            col = col.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValidationError(
                f"{source}: column {field.name} ({col.type}) cannot be read as {field.type}: {exc}"
            ) from exc
        if not field.nullable and col.null_count:
            raise ValidationError(
                f"{source}: column {field.name} has {col.null_count} empty value(s)"
            )
        columns.append(col)
    out = pa.Table.from_arrays(columns, schema=KPI_SCHEMA)
    bad = pc.index(pc.is_finite(out.column("value")), False).as_py()  # -1: none
    if bad >= 0:
        raise ValidationError(f"{source}: value at row {bad} is not finite")
    return out


def read(path: str | Path) -> pa.Table:
    """KPI records from a Parquet (``.parquet``) or CSV (``.csv``) file. A CSV's optional
    ``tags`` column holds one JSON object of strings per row (``{"region": "eu"}``; empty for
    none), since a CSV cell cannot hold a map."""
    p = path_(path, "path")
    if not p.is_file():
        raise ValidationError(f"no KPI file at path {p}")
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except (pa.ArrowException, OSError) as exc:
            raise ValidationError(f"path {p}: not a readable KPI Parquet file: {exc}") from exc
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        options = pcsv.ConvertOptions(
            column_types={"timestamp": pa.timestamp("us", tz="UTC"), "tags": pa.string()}
        )
        try:
            table = pcsv.read_csv(p, convert_options=options)
        except pa.ArrowInvalid as exc:
            raise ValidationError(f"path {p}: not a readable KPI CSV: {exc}") from exc
        if "tags" in table.column_names:
            i = table.column_names.index("tags")
            table = table.set_column(i, "tags", _csv_tags(table.column("tags"), p))
    else:
        raise ValidationError(
            f"path {p}: KPI files are .parquet or .csv, not {suffix or 'no suffix'}"
        )
    return from_table(table, str(p))


def _csv_tags(cells: pa.ChunkedArray, path: Path) -> pa.Array:
    """The CSV tags column (JSON objects as text) as the schema's string map."""
    maps: list[list[tuple[str, str]] | None] = []
    for row, cell in enumerate(cells.to_pylist()):
        if cell is None or not cell.strip():
            maps.append(None)
            continue
        try:
            tags = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{path}: tags at row {row} are not JSON: {exc}") from exc
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ValidationError(
                f'{path}: tags at row {row} must be a JSON object of strings, like {{"k": "v"}}; '
                f"got {cell!r}"
            )
        maps.append(list(tags.items()))
    return pa.array(maps, type=KPI_SCHEMA.field("tags").type)


def records(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """KPI records from dicts (``timestamp`` a datetime or ISO string; default now)."""
    now = dt.datetime.now(dt.timezone.utc)
    data: dict[str, list[Any]] = {name: [] for name in KPI_SCHEMA.names}
    for i, row in enumerate(iterable(rows, "rows", "KPI records (dicts)")):
        if not isinstance(row, Mapping):
            raise ArgumentTypeError(f"rows[{i}] must be a KPI record (a dict), got {row!r:.40}")
        missing = [c for c in ("agent_id", "version", "metric", "value") if c not in row]
        if missing:
            raise ValidationError(f"KPI record {i} lacks {', '.join(missing)}")
        ts = row.get("timestamp", now)
        if isinstance(ts, str):
            ts = dt.datetime.fromisoformat(ts)
        if isinstance(ts, dt.datetime) and ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.timezone.utc)
        data["agent_id"].append(str(row["agent_id"]))
        data["version"].append(str(row["version"]))
        data["metric"].append(str(row["metric"]))
        data["value"].append(row["value"])
        data["timestamp"].append(ts)
        tags = row.get("tags")
        data["tags"].append(None if tags is None else [(str(k), str(v)) for k, v in tags.items()])
    try:
        table = pa.table(data, schema=KPI_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationError(f"KPI records could not be read: {exc}") from exc
    return from_table(table, "KPI records")


class KpiStream:
    """An in-process stream of KPI records: producers :meth:`append`, consumers read
    :meth:`table` or :meth:`aggregate` over the records so far (the most recent ``capacity``
    batches are kept)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = integer(capacity, "capacity")
        self._batches: list[pa.Table] = []

    def append(self, rows: pa.Table | Iterable[Mapping[str, Any]]) -> None:
        table = from_table(rows, "KPI batch") if isinstance(rows, pa.Table) else records(rows)
        self._batches.append(table)
        del self._batches[: -self.capacity]

    def table(self) -> pa.Table:
        return pa.concat_tables(self._batches) if self._batches else KPI_SCHEMA.empty_table()

    def aggregate(self, window: str | None = None) -> pa.Table:
        return aggregate(self.table(), window)


def aggregate(table: pa.Table, window: str | None = None) -> pa.Table:
    """Count, mean, min, max and standard deviation of ``value`` per agent, version and
    metric, and per time window when ``window`` is given (``"30s"``, ``"5min"``, ``"1h"``,
    ``"1d"``; windows start at multiples of the width since the epoch)."""
    table = from_table(table)
    keys = ["agent_id", "version", "metric"]
    if window is not None:
        multiple, unit = _window(window)
        start = pc.floor_temporal(table.column("timestamp"), multiple=multiple, unit=unit)
        table = table.append_column("window_start", start)
        keys.append("window_start")
    grouped = table.group_by(keys).aggregate(
        [("value", "count"), ("value", "mean"), ("value", "min"), ("value", "max"),
         ("value", "stddev")]
    )  # fmt: skip
    names = {f"value_{a}": a for a in AGGREGATES}
    grouped = grouped.rename_columns([names.get(c, c) for c in grouped.column_names])
    return grouped.sort_by([(k, "ascending") for k in keys])


_UNITS = {"s": "second", "min": "minute", "h": "hour", "d": "day"}


def _window(window: str) -> tuple[int, str]:
    text = window.strip() if isinstance(window, str) else ""
    for suffix in ("min", "s", "h", "d"):
        if text.endswith(suffix) and text[: -len(suffix)].isdigit():
            n = int(text[: -len(suffix)])
            if n > 0:
                return n, _UNITS[suffix]
    raise ValidationError(
        f"window must be a positive count of s, min, h or d (e.g. '30s', '5min'), got {window!r}"
    )

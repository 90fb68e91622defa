"""KPI records: the schema, files, the stream, windowed aggregates and bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chimera import ValidationError, kpi

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def rows(n: int, version: str = "v1", metric: str = "latency") -> list[dict]:
    return [
        {"agent_id": "a", "version": version, "metric": metric, "value": float(i),
         "timestamp": T0 + dt.timedelta(seconds=i), "tags": {"region": "eu"}}
        for i in range(n)
    ]  # fmt: skip


def test_records_take_the_schema_and_aggregate_per_window() -> None:
    t = kpi.records(rows(90) + rows(10, version="v2"))
    assert t.schema == kpi.KPI_SCHEMA and t.num_rows == 100
    agg = kpi.aggregate(t, "30s").to_pylist()
    v1 = [r for r in agg if r["version"] == "v1"]
    assert [r["count"] for r in v1] == [30, 30, 30]
    assert v1[1]["mean"] == pytest.approx(44.5) and v1[1]["min"] == 30.0
    assert v1[0]["stddev"] == pytest.approx(np.std(np.arange(30.0)))
    whole = kpi.aggregate(t).to_pylist()
    assert [(r["version"], r["count"]) for r in whole] == [("v1", 90), ("v2", 10)]


def test_files_and_streams(tmp_path) -> None:
    t = kpi.records(rows(5))
    pq.write_table(t, tmp_path / "k.parquet")
    assert kpi.read(tmp_path / "k.parquet").equals(t)
    csv = tmp_path / "k.csv"
    csv.write_text(
        "agent_id,version,metric,value,timestamp\na,v1,latency,2.5,2026-01-01T00:00:00Z\n"
    )
    assert kpi.read(csv).column("value").to_pylist() == [2.5]
    tagged = tmp_path / "tagged.csv"
    tagged.write_text(
        "agent_id,version,metric,value,timestamp,tags\n"
        'a,v1,latency,2.5,2026-01-01T00:00:00Z,"{""region"": ""eu"", ""tier"": ""gold""}"\n'
        "a,v1,latency,3.5,2026-01-01T00:00:01Z,\n"
    )
    assert kpi.read(tagged).column("tags").to_pylist() == [
        [("region", "eu"), ("tier", "gold")],
        None,
    ]
    naive = pa.table({"agent_id": ["a"], "version": ["v"], "metric": ["m"], "value": [1],
                      "timestamp": pa.array([dt.datetime(2026, 1, 1)])})  # fmt: skip
    assert kpi.from_table(naive).column("timestamp")[0].as_py() == T0  # naive is UTC
    stream = kpi.KpiStream(capacity=2)
    for i in range(3):
        stream.append(rows(4, version=f"v{i}"))
    assert stream.table().num_rows == 8  # the two most recent batches
    assert {r["version"] for r in stream.aggregate().to_pylist()} == {"v1", "v2"}


def test_bad_kpi_input(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("agent,version,value\na,v1,1\n")
    with pytest.raises(ValidationError, match=r"lacks the KPI column.*agent_id, metric, timestamp"):
        kpi.read(bad)
    head = "agent_id,version,metric,value,timestamp,tags\na,v1,m,1,2026-01-01T00:00:00Z,"
    for cell, match in [("{oops", "tags at row 0 are not JSON"),
                        ('"[1, 2]"', "must be a JSON object of strings"),
                        ('"{""k"": 3}"', "must be a JSON object of strings")]:  # fmt: skip
        bad.write_text(head + cell + "\n")
        with pytest.raises(ValidationError, match=match):
            kpi.read(bad)
    with pytest.raises(ValidationError, match=r"\.parquet or \.csv"):
        (tmp_path / "k.json").write_text("{}")
        kpi.read(tmp_path / "k.json")
    with pytest.raises(ValidationError, match="no KPI file"):
        kpi.read(tmp_path / "missing.parquet")
    with pytest.raises(ValidationError, match="not finite"):
        kpi.records([{"agent_id": "a", "version": "v", "metric": "m", "value": math.inf}])
    with pytest.raises(ValidationError, match="lacks value"):
        kpi.records([{"agent_id": "a", "version": "v", "metric": "m"}])
    with pytest.raises(ValidationError, match="cannot be read as double"):
        kpi.from_table(pa.table({"agent_id": ["a"], "version": ["v"], "metric": ["m"],
                                 "value": ["high"], "timestamp": [T0]}))  # fmt: skip
    with pytest.raises(ValidationError, match="window must be"):
        kpi.aggregate(kpi.records(rows(2)), "5 parsecs")

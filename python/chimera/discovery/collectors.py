"""Collectors of KPIs from the sources a deployment already has: files (Parquet, CSV, Arrow
IPC), a Prometheus exposition endpoint or its text, and a process's own statistics. Each
returns a ``pyarrow.Table`` of KPI records in the schema of :mod:`chimera.kpi`
(``agent_id``, ``version``, ``metric``, ``value``, ``timestamp``, ``tags``), ready for a
``KpiStream``, ``aggregate`` or a Parquet file.
"""

from __future__ import annotations

import datetime as dt
import math
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import kpi
from .._errors import ArgumentTypeError, ChimeraError, ValidationError
from .._validate import integer, optional, real, seconds
from .._validate import path as path_

# Arrow IPC files, which chimera.kpi's reader leaves to the collectors.
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
# The agent and version of a record whose source does not say.
UNKNOWN = "unknown"

_MAX_INTERVAL = 10.0  # seconds process_stats may block to measure cpu_percent


def from_file(path: str | Path) -> pa.Table:
    """KPI records from a Parquet (``.parquet``), CSV (``.csv``; tags as JSON objects) or
    Arrow IPC file (``.arrow``, ``.feather``, ``.ipc``; file or stream format)."""

    p = path_(path, "path")
    if p.suffix.lower() not in ARROW_SUFFIXES:
        return kpi.read(p)
    if not p.is_file():
        raise ValidationError(f"no KPI file at path {p}")
    import pyarrow.ipc as ipc

    try:
        with ipc.open_file(p) as reader:
            table = reader.read_all()
    except pa.ArrowInvalid:
        try:  # the stream format, as written by ipc.new_stream
            with ipc.open_stream(p) as stream:
                table = stream.read_all()
        except pa.ArrowInvalid as exc:
            raise ValidationError(f"path {p}: not an Arrow IPC file or stream: {exc}") from exc
    return kpi.from_table(table, str(p))


def from_prometheus(
    text_or_url: str,
    *,
    agent_label: str = "agent",
    version_label: str = "version",
    timeout: float = 5.0,
) -> pa.Table:
    """KPI records from Prometheus exposition text, or from the endpoint at an ``http(s)://``
    URL (fetched with ``timeout`` seconds).

    Each sample is one record: its name (``..._total``, ``..._bucket`` and so on, as exposed)
    is the metric; the ``agent_label`` and ``version_label`` labels give the agent and version
    (the endpoint's host, or ``"prometheus"`` for text, and ``"unknown"`` when absent); the
    other labels are the tags. A sample without a timestamp is stamped now. ``..._created``
    samples (when a series started) and non-finite values (NaN) are not KPIs and are left out.
    """
    from prometheus_client.parser import text_string_to_metric_families

    if not isinstance(text_or_url, str):
        raise ArgumentTypeError(f"text_or_url must be exposition text or an http(s) URL (a str), "
                                f"got {text_or_url!r:.40}")  # fmt: skip
    for name, label in (("agent_label", agent_label), ("version_label", version_label)):
        if not isinstance(label, str) or not label:
            raise ArgumentTypeError(f"{name} must be a label name (a str), got {label!r:.40}")
    timeout = seconds(timeout, "timeout")
    source = "prometheus"
    text = text_or_url
    if text_or_url.lstrip().lower().startswith(("http://", "https://")):
        url = text_or_url.strip()
        source = urllib.parse.urlsplit(url).netloc or source
        text = _fetch(url, timeout)
    now = dt.datetime.now(dt.timezone.utc)
    rows: list[dict[str, Any]] = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith("_created") or not math.isfinite(sample.value):
                    continue
                tags = dict(sample.labels)
                rows.append({
                    "agent_id": tags.pop(agent_label, source),
                    "version": tags.pop(version_label, UNKNOWN),
                    "metric": sample.name,
                    "value": float(sample.value),
                    "timestamp": _when(sample.timestamp, now),
                    "tags": tags or None,
                })  # fmt: skip
    except ValueError as exc:  # the parser's way of saying the text is not exposition format
        raise ValidationError(f"text_or_url from {source} is not Prometheus exposition text: "
                              f"{exc}") from exc  # fmt: skip
    return kpi.records(rows)


def _fetch(url: str, timeout: float) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
            charset = response.headers.get_content_charset() or "utf-8"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChimeraError(
            f"could not read Prometheus metrics from {url}: {exc}; is the endpoint up, and is "
            "this its /metrics address?"
        ) from exc
    return data.decode(charset, errors="replace")


def _when(timestamp: Any, now: dt.datetime) -> dt.datetime:
    """A sample's timestamp (seconds, or the parser's Timestamp) as a UTC datetime."""
    if timestamp is None:
        return now
    seconds = timestamp.sec + timestamp.nsec / 1e9 if hasattr(timestamp, "sec") else timestamp
    return dt.datetime.fromtimestamp(float(seconds), dt.timezone.utc)


def process_stats(
    pid: int | None = None, *, agent_id: str | None = None, interval: float | None = 0.05
) -> pa.Table:
    """KPI records of one process (default: this one), measured now with psutil.

    Metrics: ``cpu_percent`` (over ``interval`` seconds; 100 is one core busy),
    ``cpu_seconds`` (user plus system since it started), ``rss_bytes``, ``threads``, and
    ``open_files`` (file descriptors on POSIX, handles on Windows) where the platform tells.
    ``agent_id`` defaults to the process's name; the version is ``"unknown"`` and the pid a tag.
    """
    import psutil

    if pid is not None:
        integer(pid, "pid", 0, 2**31 - 1)
    optional(agent_id, str, "agent_id", "a str")
    if interval is not None:  # None: psutil's reading since the last call, without blocking
        interval = real(interval, "interval", 0.0, _MAX_INTERVAL,
                        want=f"seconds in [0, {_MAX_INTERVAL:g}] (for a longer window, "
                        "difference two readings of cpu_seconds)")  # fmt: skip
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            name = proc.name()
            times = proc.cpu_times()
            stats = {
                "cpu_seconds": times.user + times.system,
                "rss_bytes": float(proc.memory_info().rss),
                "threads": float(proc.num_threads()),
            }
            opened = _open_files(proc)
        if opened is not None:
            stats["open_files"] = float(opened)
        stats["cpu_percent"] = proc.cpu_percent(interval=interval)
    except psutil.Error as exc:
        raise ChimeraError(f"no statistics for process {pid}: {exc}") from exc
    tags = {"pid": str(proc.pid), "name": name}
    agent = agent_id if agent_id is not None else (name or "process")
    return kpi.records(
        {"agent_id": agent, "version": UNKNOWN, "metric": metric, "value": value, "tags": tags}
        for metric, value in stats.items()
    )


def _open_files(proc: Any) -> int | None:
    import psutil

    for count in ("num_fds", "num_handles"):  # POSIX, Windows
        if hasattr(proc, count):
            try:
                return int(getattr(proc, count)())
            except psutil.Error:
                return None
    return None

"""Prometheus metrics of the execution layer, in a registry of their own (prometheus-client,
the project everyone scrapes), with an optional HTTP endpoint on a loopback port.

- ``chimera_evaluations_total{agent}``: evaluations finished, violations included;
- ``chimera_evaluation_seconds{agent}``: wall time per evaluation, one observation per shard
  (its time over its individuals);
- ``chimera_sandbox_traps_total{agent,reason}``: individuals the sandbox stopped, by reason;
- ``chimera_queue_depth``: shards waiting for a worker;
- ``chimera_workers_busy``: workers evaluating a shard now.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_BUCKETS = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)


class Metrics:
    """The execution layer's series; ``serve()`` exposes them for scraping."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.evaluations = Counter("chimera_evaluations", "Evaluations finished", ["agent"],
                                   registry=r)  # fmt: skip
        self.seconds = Histogram("chimera_evaluation_seconds", "Wall time per evaluation",
                                 ["agent"], buckets=_BUCKETS, registry=r)  # fmt: skip
        self.traps = Counter("chimera_sandbox_traps", "Individuals the sandbox stopped",
                             ["agent", "reason"], registry=r)  # fmt: skip
        self.queue_depth = Gauge("chimera_queue_depth", "Shards waiting for a worker", registry=r)
        self.workers_busy = Gauge("chimera_workers_busy", "Workers evaluating now", registry=r)

    def record(self, agent: str, n: int, seconds: float, reasons: list[str]) -> None:
        """A shard of n evaluations that took ``seconds``, and its violations' reasons."""
        if n:
            self.evaluations.labels(agent).inc(n)
            self.seconds.labels(agent).observe(seconds / n)
        for reason in reasons:
            self.traps.labels(agent, reason).inc()

    def serve(self, port: int = 0) -> Endpoint:
        """An HTTP exposition endpoint on 127.0.0.1 (port 0: any free one)."""
        server, _ = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        return Endpoint(server)


class Endpoint:
    """A running exposition endpoint: ``url``, and ``close()`` to stop it."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.port = int(server.server_port)
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

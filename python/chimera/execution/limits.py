"""The sandbox's limits for one evaluation of a WebAssembly agent."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._errors import ValidationError
from .._validate import integer, real

TICK = 0.01  # seconds between epoch ticks (runtime.py's ticker thread)


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use, and what a broken one scores.

    - ``fuel``: WebAssembly instructions (wasmtime's fuel: about one unit per instruction).
    - ``timeout``: wall-clock seconds, enforced by epoch interruption (``tick`` resolution).
    - ``memory``: bytes of linear memory the agent may grow to.
    - ``stack``: bytes of WebAssembly stack, at most 1 MiB (deep recursion traps past it; the
      evaluating thread's own stack must be larger).
    - ``tables``: elements all the agent's tables may hold together.
    - ``chunk``: individuals per call into the module. A call's fuel and deadline are the
      per-evaluation limits times the individuals it holds, and the individual running when
      either runs out is the one charged; after a trap the rest of the chunk goes in calls of
      half the size, so runaways cost at most about ``2 chunk`` evaluations' worth in all, plus
      one each.
    - ``worst_fitness``: what an individual the sandbox stopped, or that returned NaN or an
      infinity, scores on every objective (finite, so that optimizers can rank it).
    """

    fuel: int = 10_000_000
    timeout: float = 1.0
    memory: int = 64 << 20
    stack: int = 512 << 10
    tables: int = 10_000
    chunk: int = 256
    worst_fitness: float = 1e30

    def __post_init__(self) -> None:
        for name, top in (("fuel", 1 << 40), ("memory", 1 << 31), ("stack", 1 << 20),
                          ("tables", 1 << 24), ("chunk", 1 << 16)):  # fmt: skip
            value = getattr(self, name)
            integer(value, f"Limits.{name}", 1, top)
        if self.memory % 65536:
            raise ValidationError(
                f"Limits.memory must be a whole number of 64 KiB pages, got {self.memory}"
            )
        real(self.timeout, "Limits.timeout (seconds)", 0.0, 86400.0, open_low=True)
        real(self.worst_fitness, "Limits.worst_fitness")

    @property
    def ticks(self) -> int:
        """Epoch ticks of one evaluation's deadline (the runtime ticks every TICK seconds)."""
        return max(1, math.ceil(self.timeout / TICK))

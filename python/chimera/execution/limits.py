"""The sandbox's limits for one evaluation of a WebAssembly agent."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._errors import ValidationError


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use, and what a broken one scores.

    - ``fuel``: WebAssembly instructions (wasmtime's fuel: about one unit per instruction).
    - ``timeout``: wall-clock seconds, enforced by epoch interruption (``tick`` resolution).
    - ``memory``: bytes of linear memory the agent may grow to.
    - ``stack``: bytes of WebAssembly stack (deep recursion traps past it).
    - ``chunk``: individuals per call into the module. A call's fuel and deadline are the
      per-evaluation limits times the individuals it holds, and the individual running when
      either runs out is the one charged; so a runaway costs at most ``chunk`` evaluations'
      worth before it is stopped, and fewer calls cost less host time.
    - ``worst_fitness``: what an individual the sandbox stopped, or that returned NaN or an
      infinity, scores on every objective (finite, so that optimizers can rank it).
    """

    fuel: int = 10_000_000
    timeout: float = 1.0
    memory: int = 64 << 20
    stack: int = 512 << 10
    chunk: int = 256
    worst_fitness: float = 1e30
    tick: float = 0.01

    def __post_init__(self) -> None:
        for name in ("fuel", "memory", "stack", "chunk"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"Limits.{name} must be a positive integer, got {value!r}")
        if self.memory % 65536:
            raise ValidationError(
                f"Limits.memory must be a whole number of 64 KiB pages, got {self.memory}"
            )
        for name in ("timeout", "tick"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValidationError(f"Limits.{name} must be a positive number, got {value!r}")
        if not (isinstance(self.worst_fitness, (int, float)) and math.isfinite(self.worst_fitness)):
            raise ValidationError(
                f"Limits.worst_fitness must be finite, got {self.worst_fitness!r}"
            )

    @property
    def ticks(self) -> int:
        """Epoch ticks of one evaluation's deadline."""
        return max(1, math.ceil(self.timeout / self.tick))

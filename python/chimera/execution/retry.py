"""How a failed task is tried again: a bounded number of attempts, waits growing
exponentially, with "full jitter" (each wait drawn uniformly below its cap, so tasks that failed
together do not come back together)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import CircuitOpen, TaskCancelled, ValidationError
from .._validate import integer, seconds


@dataclass(frozen=True)
class Retry:
    """``attempts`` in all (1: never retried); the wait before attempt k + 1 is uniform on
    ``[0, min(cap, base * 2**(k - 1)))`` seconds. ``on``: the exception types worth retrying
    (a timeout is a ``TimeoutError``); cancellation and an open circuit never are."""

    attempts: int = 3
    base: float = 0.05
    cap: float = 10.0
    on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        integer(self.attempts, "attempts")
        seconds(self.base, "base", zero=True)
        seconds(self.cap, "cap", zero=True)
        on = self.on if isinstance(self.on, tuple) else (self.on,)
        if not all(isinstance(t, type) and issubclass(t, BaseException) for t in on):
            raise ValidationError(f"on must be exception types, got {self.on!r}")
        object.__setattr__(self, "on", on)

    def wait(self, attempt: int, exc: BaseException, rng: np.random.Generator) -> float | None:
        """Seconds to wait before trying again after ``attempt`` (1-based) failed with ``exc``,
        or None when it is not tried again."""
        if attempt >= self.attempts or isinstance(exc, (TaskCancelled, CircuitOpen)):
            return None
        if not isinstance(exc, self.on):
            return None
        return float(rng.uniform(0.0, min(self.cap, self.base * 2.0 ** (attempt - 1))))

"""A circuit breaker per agent version: after ``failures`` failures in a row the circuit opens
and the version's tasks fail at once (``CircuitOpen``) instead of burning workers; after
``reset_after`` seconds one task goes through as a probe (half-open): its success closes the
circuit, its failure opens it again for another ``reset_after``."""

from __future__ import annotations

from dataclasses import dataclass

from .._validate import positive_int, seconds

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass
class CircuitBreaker:
    """The state of one version's circuit; the caller serialises access (the scheduler's
    lock)."""

    failures: int = 5
    reset_after: float = 30.0
    state: str = CLOSED
    streak: int = 0  # failures in a row
    opened_at: float = 0.0
    probing: bool = False  # the half-open probe is running

    def __post_init__(self) -> None:
        positive_int(self.failures, "failures")
        seconds(self.reset_after, "reset_after", zero=True)

    def allow(self, now: float) -> bool:
        """May a task of this version start now? (True makes it the probe when half-open.)"""
        if self.state == OPEN and now - self.opened_at >= self.reset_after:
            self.state, self.probing = HALF_OPEN, False
        if self.state == CLOSED:
            return True
        if self.state == HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def success(self) -> None:
        self.state, self.streak, self.probing = CLOSED, 0, False

    def failure(self, now: float) -> None:
        self.streak += 1
        if self.state == HALF_OPEN or self.streak >= self.failures:
            self.state, self.opened_at, self.probing = OPEN, now, False

    def abandon(self) -> None:
        """A task it let through ended with neither verdict (cancelled): a new probe may go."""
        self.probing = False

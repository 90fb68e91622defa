"""A circuit breaker per agent version: after ``failures`` failures in a row the circuit opens
and the version's tasks fail at once (``CircuitOpen``) instead of burning workers; after
``reset_after`` seconds one task goes through as a probe (half-open): its success closes the
circuit, its failure opens it again for another ``reset_after``.

Each task the breaker lets through carries a ``Permit``: the breaker's generation then (it
moves on each time the circuit opens) and whether it is the probe. Outcomes of tasks let
through before the circuit last opened are history and move nothing; while half-open only
the probe's outcome counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .._validate import integer, seconds

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class Permit(NamedTuple):
    generation: int
    probe: bool


@dataclass
class CircuitBreaker:
    """The state of one version's circuit; the caller serialises access (the scheduler's
    lock)."""

    failures: int = 5
    reset_after: float = 30.0
    state: str = CLOSED
    streak: int = 0  # failures in a row
    opened_at: float = 0.0
    generation: int = 0
    probing: bool = False  # the half-open probe is out

    def __post_init__(self) -> None:
        integer(self.failures, "failures")
        seconds(self.reset_after, "reset_after", zero=True)

    def allow(self, now: float) -> Permit | None:
        """A permit for a task that may start now, or None while the circuit is open (or
        half-open with its probe out)."""
        if self.state == OPEN and now - self.opened_at >= self.reset_after:
            self.state, self.probing = HALF_OPEN, False
        if self.state == CLOSED:
            return Permit(self.generation, False)
        if self.state == HALF_OPEN and not self.probing:
            self.probing = True
            return Permit(self.generation, True)
        return None

    def success(self, permit: Permit) -> None:
        if permit.generation != self.generation or (self.state == HALF_OPEN) != permit.probe:
            return
        self.state, self.streak, self.probing = CLOSED, 0, False

    def failure(self, permit: Permit, now: float) -> None:
        if permit.generation != self.generation or (self.state == HALF_OPEN) != permit.probe:
            return
        self.streak += 1
        if permit.probe or self.streak >= self.failures:
            self.state, self.opened_at, self.probing = OPEN, now, False
            self.generation += 1

    def abandon(self, permit: Permit) -> None:
        """The probe ended with neither verdict (cancelled): another may go."""
        if permit.probe and permit.generation == self.generation and self.state == HALF_OPEN:
            self.probing = False

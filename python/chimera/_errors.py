"""The exceptions Chimera raises; each message says what was wrong and how to fix it."""

from __future__ import annotations


class ChimeraError(Exception):
    """Base class of every error Chimera raises on purpose."""


class ValidationError(ChimeraError, ValueError):
    """An argument, a spec or a checkpoint failed a check."""


def listed(where: str, items: list[object], noun: str) -> str:
    """``where: N noun(s):`` and one item a line: every problem of an input at once."""
    lines = "\n".join(f"  - {item}" for item in items)
    return f"{where}: {len(items)} {noun}(s):\n{lines}"


class ArgumentTypeError(ValidationError, TypeError):
    """An argument of the wrong type (a ValidationError, and a TypeError as Python's own)."""


class BackendUnavailable(ChimeraError, RuntimeError):
    """A backend was asked for by name but cannot run here."""


class FitnessError(ValidationError):
    """Fitness values had the wrong shape or type, or were NaN/infinite."""


class StateError(ChimeraError, RuntimeError):
    """An optimizer method was called out of order (tell before ask, ...)."""


class SandboxViolation(ChimeraError):
    """An agent broke a limit of its sandbox (fuel, deadline, memory, ...): ``reason`` names
    it and ``individual`` is the batch position it struck (None when not one individual's)."""

    def __init__(self, message: str, reason: str = "", individual: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.individual = individual


class TaskFailed(ChimeraError, RuntimeError):
    """A scheduled task did not produce a result; the subclass says why."""


class TaskTimeout(TaskFailed, TimeoutError):
    """A task ran past its timeout (its worker was given up and replaced)."""


class TaskCancelled(TaskFailed):
    """A task was cancelled, or a task it depends on was cancelled or failed."""


class CircuitOpen(TaskFailed):
    """A task's agent version has failed too often lately; its circuit breaker is open."""


class RunFailed(ChimeraError, RuntimeError):
    """A run stopped on an error while it ran; what it committed is kept, and ``chimera run
    --resume RUN_DIR`` continues it from its last checkpoint."""

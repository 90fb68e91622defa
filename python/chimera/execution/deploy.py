"""Blue-green deployment of agent versions (artifact ids) with a canary.

The incumbent serves everything until ``propose(candidate)``; then each ``route()`` sends the
candidate a ``canary_share`` of the work. Every routed unit is a ``Ticket`` naming the version
that served it, recorded exactly once with ``record(ticket, kpi)`` or ``record(ticket,
failed=True)``; a ticket routed before a swap is still credited to the version that served
it, so a swap never drops or double-counts an in-flight evaluation.

The candidate is rolled back at its first failure (a trap or an error), and judged once both
versions have ``min_samples`` KPIs from this canary, after every KPI from then on:
``gate(incumbent_kpis, candidate_kpis)`` returns True (not worse: promote), False (worse:
roll back) or None (undecided: keep collecting). A canary still undecided once both versions
have ``max_samples`` KPIs is rolled back: a version that cannot show it is not worse does not
replace one that works (nor does one whose gate raises or answers anything else). The default gate compares means (``higher_is_better`` sets the
direction) and always decides; the A/B tests of ``chimera.refinement.gates`` are gates too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import StateError, ValidationError
from .._validate import as_seed, boolean, integer, real

# (incumbent's KPIs, candidate's KPIs) -> True: promote, False: roll back, None: undecided.
# It runs under the deployment's lock, so a gate with state sees its calls one at a time.
Gate = Callable[[Sequence[float], Sequence[float]], bool | None]
_FORMAT = "chimera.Deployment/1"


@dataclass(frozen=True)
class Ticket:
    """One routed unit of work: its serial number, the version that serves it, and the canary
    it was routed in (0 when none was running)."""

    serial: int
    version: str
    canary: int


class Deployment:
    """The versions in service and the canary between them; thread-safe."""

    def __init__(self, incumbent: str, *, canary_share: float = 0.1, min_samples: int = 30,
                 max_samples: int | None = None, higher_is_better: bool = False,
                 gate: Gate | None = None, seed: int | None = 0) -> None:  # fmt: skip
        if not isinstance(incumbent, str) or not incumbent:
            raise ValidationError(f"incumbent must be a version id (a non-empty str), got "
                                  f"{incumbent!r}")  # fmt: skip
        canary_share = real(canary_share, "canary_share", 0.0, 1.0, open_low=True,
                            open_high=True, want="in (0, 1)")  # fmt: skip
        integer(min_samples, "min_samples")
        max_samples = 10 * min_samples if max_samples is None else max_samples
        integer(max_samples, "max_samples", 0)
        if max_samples < min_samples:
            raise ValidationError(
                f"max_samples must be at least min_samples ({min_samples}), got {max_samples}"
            )
        if gate is not None and not callable(gate):
            raise ValidationError(f"gate must be callable, got {type(gate).__name__}")
        self.incumbent: str = incumbent
        self.candidate: str | None = None
        self.canary_share, self.min_samples = float(canary_share), min_samples
        self.max_samples = max_samples
        self.higher_is_better = boolean(higher_is_better, "higher_is_better")
        self.gate: Gate = gate if gate is not None else self._not_worse_on_mean
        self.events: list[dict[str, Any]] = []
        self._rng = np.random.default_rng(as_seed(seed))
        self._lock = threading.Lock()
        self._serial = 0
        self._canary = 0
        self._in_flight: dict[int, Ticket] = {}
        self._kpis: dict[tuple[int, str], list[float]] = {}
        self.served: dict[str, int] = {}  # recorded units per version, over the deployment's life

    def _not_worse_on_mean(self, incumbent: Sequence[float], candidate: Sequence[float]) -> bool:
        a, b = float(np.mean(incumbent)), float(np.mean(candidate))
        return b >= a if self.higher_is_better else b <= a

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def live(self) -> tuple[str, ...]:
        """The versions in service: the incumbent, and the candidate while a canary runs (read
        together, so that a promotion is never seen half done)."""
        with self._lock:
            return tuple(v for v in (self.incumbent, self.candidate) if v is not None)

    def propose(self, candidate: str) -> None:
        """Starts a canary of ``candidate`` against the incumbent."""
        with self._lock:
            if self.candidate is not None:
                raise ValidationError(
                    f"a canary of {self.candidate} is running; wait for its verdict"
                )
            if candidate == self.incumbent:
                raise ValidationError(f"{candidate} is already the incumbent")
            self.candidate = candidate
            self._canary += 1
            self.events.append({"event": "canary", "version": candidate, "canary": self._canary})

    def route(self) -> Ticket:
        """The version that serves the next unit of work, as a ticket to record later."""
        with self._lock:
            self._serial += 1
            version, canary = self.incumbent, 0
            if self.candidate is not None:
                canary = self._canary
                if self._rng.random() < self.canary_share:
                    version = self.candidate
            ticket = Ticket(self._serial, version, canary)
            self._in_flight[ticket.serial] = ticket
            return ticket

    def record(
        self, ticket: Ticket, kpi: float | None = None, *, failed: bool = False
    ) -> str | None:
        """The outcome of a routed unit; returns "promoted" or "rolled back" when it decided the
        canary. A ticket is recorded once: again, or never routed, is an error."""
        if kpi is not None:  # checked before the ticket is taken, so a bad KPI loses nothing
            try:
                kpi = float(kpi)
            except (TypeError, ValueError):
                raise ValidationError(f"kpi must be a number, got {kpi!r}") from None
            if not np.isfinite(kpi):
                raise ValidationError(f"kpi must be finite, got {kpi}")
        with self._lock:
            if self._in_flight.pop(ticket.serial, None) != ticket:
                raise ValidationError(
                    f"ticket {ticket.serial} is not in flight (recorded already?)"
                )
            self.served[ticket.version] = self.served.get(ticket.version, 0) + 1
            candidate = self.candidate
            if candidate is None or ticket.canary != self._canary:
                return None  # routed outside the running canary: served, but not evidence
            if failed and ticket.version == candidate:
                return self._end("rolled back", "the candidate failed (trap or error)")
            if failed or kpi is None:
                return None
            self._kpis.setdefault((ticket.canary, ticket.version), []).append(float(kpi))
            old = self._kpis.get((self._canary, self.incumbent), [])
            new = self._kpis.get((self._canary, candidate), [])
            n = min(len(old), len(new))
            if n < self.min_samples:
                return None
            # A gate that fails or answers nonsense cannot show the candidate is not worse:
            # the canary ends rolled back rather than every later record raising.
            try:
                verdict = self.gate(tuple(old), tuple(new))
            except Exception as exc:
                return self._end("rolled back", f"the gate failed: {exc!r}")
            if verdict is not None and not isinstance(verdict, (bool, np.bool_)):
                return self._end("rolled back", "the gate answered "
                                 f"{type(verdict).__name__}, not True, False or None")  # fmt: skip
            # The verdict's numbers: the means, and the gate's test where it keeps one.
            test = getattr(self.gate, "last", None)
            detail = f"; {test.verdict}" if test is not None and hasattr(test, "verdict") else ""
            over = (f"over {len(new)} and {len(old)} KPIs (mean {np.mean(new):.6g} against "
                    f"{np.mean(old):.6g}{detail})")  # fmt: skip
            evidence = {"candidate_kpis": len(new), "candidate_mean": float(np.mean(new)),
                        "incumbent_kpis": len(old), "incumbent_mean": float(np.mean(old))}  # fmt: skip
            if verdict is None:
                if n < self.max_samples:
                    return None
                return self._end("rolled back",
                                 f"undecided {over} (max_samples={self.max_samples})", evidence)  # fmt: skip
            if verdict:
                return self._end("promoted", f"not worse {over}", evidence)
            return self._end("rolled back", f"worse {over}", evidence)

    def rollback(self, why: str) -> str | None:
        """Ends the running canary now, rolled back (say ``why``); None if none runs."""
        with self._lock:
            return None if self.candidate is None else self._end("rolled back", why)

    def state_dict(self) -> dict[str, Any]:
        """A snapshot from which ``load_state_dict`` continues exactly: taken between batches,
        when no ticket is in flight (a ticket cannot outlive the process that routed it)."""
        with self._lock:
            if self._in_flight:
                raise StateError(f"{len(self._in_flight)} ticket(s) in flight: record them first")
            return {
                "format": _FORMAT, "incumbent": self.incumbent, "candidate": self.candidate,
                "serial": self._serial, "canary": self._canary,
                "kpis": [[c, v, list(k)] for (c, v), k in self._kpis.items()],
                "served": dict(self.served), "events": [dict(e) for e in self.events],
                "rng": self._rng.bit_generator.state,
            }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict``."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValidationError(f"not a deployment snapshot ({_FORMAT})")
        try:
            kpis = {(int(c), str(v)): [float(x) for x in k] for c, v, k in state["kpis"]}
            with self._lock:
                self._rng.bit_generator.state = state["rng"]
                self.incumbent, self.candidate = str(state["incumbent"]), state["candidate"]
                self._serial, self._canary = int(state["serial"]), int(state["canary"])
                self._kpis, self._in_flight = kpis, {}
                self.served = {str(k): int(v) for k, v in state["served"].items()}
                self.events = [dict(e) for e in state["events"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"deployment snapshot is malformed: {exc!r}") from exc

    def _end(self, verdict: str, why: str, evidence: dict[str, Any] | None = None) -> str:
        """Ends the canary; its event holds the verdict, why, and the gate's evidence (each
        side's KPI count and mean) when the gate decided."""
        candidate = self.candidate
        if verdict == "promoted" and candidate is not None:
            self.incumbent = candidate
        self.candidate = None
        self.events.append({"event": verdict, "version": candidate, "canary": self._canary,
                            "why": why, **(evidence or {})})  # fmt: skip
        return verdict

"""The step sizes of the GA's adaptive mutations (:class:`~chimera.evolution.operators.
LogNormal`, :class:`~chimera.evolution.operators.OneFifth`, :class:`~chimera.evolution.
operators.GESMR`): how a child's step size is drawn, how the children are mutated with it, and
what the population keeps after survival.

A child's Gaussian steps come from the generation's ``MUTATE`` rows (``Stream(seed, g, child,
MUTATE)``, unused by the kernel, which leaves these children unmutated) and its step-size draw
from ``Stream(seed, g, child, STEP)``, both through the ``es`` kernels' ``standard_normal``: a
run is a function of its seed, on either CPU backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import _backend, _state_dict
from .._errors import ValidationError
from ..optimizer import GenomeSpace
from . import operators as ops
from .variation import repaired

MUTATE, STEP = 3, 13  # Philox purposes (docs/kernels.md)


class StepSizes:
    """What an adaptive mutation keeps: one step size per individual (lognormal), per group
    (gesmr) or one for all (one_fifth), in units of each gene's range; and the pending
    children's."""

    def __init__(self, op: ops.AdaptiveMutation, space: GenomeSpace, pop_size: int, seed: int,
                 backend: str, repair: str) -> None:  # fmt: skip
        if backend not in ("cpp", "numba"):
            raise ValidationError(f"{op.name} mutation runs on the cpp or numba backend, not "
                                  f"{backend!r}")  # fmt: skip
        self.op, self.space, self.seed, self.repair = op, space, seed, repair
        _, self._kernels = _backend.resolve(backend, "es")
        size = {"lognormal": pop_size, "gesmr": 0, "one_fifth": 1}[op.name]
        if isinstance(op, ops.GESMR):
            size = min(op.groups, pop_size)
        self.sigma = np.full(size, float(op.sigma))
        self.pending: np.ndarray | None = None

    @classmethod
    def of(cls, op: ops.Mutation, space: GenomeSpace, pop_size: int, seed: int, backend: str,
           repair: str) -> StepSizes | None:  # fmt: skip
        """The step sizes of ``op``, or None for a mutation the kernel applies."""
        if not isinstance(op, ops.AdaptiveMutation):
            return None
        return cls(op, space, pop_size, seed, backend, repair)

    def _normals(self, rows: int, cols: int, generation: int, purpose: int) -> np.ndarray:
        out = np.empty((rows, cols))
        self._kernels.standard_normal(out, self.seed, generation, purpose)
        return out

    def _groups(self, n: int) -> np.ndarray:
        """Each child's group: contiguous blocks of children, as even as they divide."""
        return np.arange(n) * self.sigma.size // n

    def mutate(self, children: np.ndarray, parents: np.ndarray, generation: int) -> None:
        """Draws each child's step size and mutates every gene of it, in place."""
        n, d = children.shape
        op, sp = self.op, self.space
        if isinstance(op, ops.LogNormal):
            tau = op.tau if op.tau is not None else 1 / math.sqrt(d)
            step = self.sigma[parents[:, 0]] * np.exp(
                tau * self._normals(n, 1, generation, STEP)[:, 0]
            )
        elif isinstance(op, ops.GESMR):
            group = self._groups(n)
            step = self.sigma[group] * 2.0 ** self._normals(n, 1, generation, STEP)[:, 0]
            first = np.flatnonzero(np.diff(group, prepend=-1))  # each group's first child
            step[first] = self.sigma[group[first]]
        else:
            step = np.full(n, self.sigma[0])
        x = children + step[:, None] * (sp.high - sp.low) * self._normals(n, d, generation, MUTATE)
        children[:] = repaired(x, sp.low, sp.high, self.repair)
        self.pending = step

    def survived(self, f_children: np.ndarray, f_first_parents: np.ndarray,
                 survivors: np.ndarray) -> None:  # fmt: skip
        """Learns from the generation just told (children's values, their first parents')
        and follows the survivors (< pop_size: a parent's row, else pop_size + a child's)."""
        assert self.pending is not None
        op, step = self.op, self.pending
        if isinstance(op, ops.LogNormal):
            self.sigma = np.concatenate([self.sigma, step])[survivors]
        elif isinstance(op, ops.GESMR):
            gain = np.where(np.isnan(f_children), -np.inf, f_first_parents - f_children)
            group = self._groups(step.size)
            for g in range(self.sigma.size):  # groups are few: a loop reads plainly
                members = np.flatnonzero(group == g)
                if members.size:
                    self.sigma[g] = step[members[np.argmax(gain[members])]]
        else:
            p = float(np.mean(f_children < f_first_parents))
            self.sigma = self.sigma * math.exp((p - 0.2) / 0.8 / op.damping)  # type: ignore[attr-defined]
        self.sigma = np.clip(self.sigma, 1e-300, 1e10)  # neither vanishes nor overflows
        self.pending = None

    def state(self) -> dict[str, Any]:
        return {"sigma": self.sigma.copy(), "pending": _state_dict.copy(self.pending)}

    def load(self, state: Mapping[str, Any], pop_size: int) -> tuple[np.ndarray, Any]:
        """The checked step sizes of a checkpoint (assigned by the caller)."""
        sigma = _state_dict.array(state, "sigma", self.sigma.shape, np.float64)
        pending = _state_dict.array(state, "pending", (pop_size,), np.float64)
        for a in (sigma, pending):
            if a is not None and not (np.isfinite(a).all() and (a > 0).all()):
                raise ValidationError("checkpoint step sizes must be positive and finite")
        if sigma is None:
            raise ValidationError("checkpoint step_sizes has no sigma")
        return sigma, pending

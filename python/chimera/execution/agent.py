"""``WasmAgent``: a WebAssembly module plus its genome layout, evaluated in a sandbox.

Each thread that evaluates an agent gets its own wasmtime Store and instance (a Store must not
be shared between threads); wasmtime releases the GIL while wasm runs, so threads scale. A
batch goes to the module in calls of up to ``Limits.chunk`` genomes through the batch entry
point. When a call traps, the first result it left unwritten names the individual that was
running: that one gets a ``SandboxViolation`` with the reason and the worst fitness, the
instance is replaced, and the rest of the batch carries on.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import wasmtime

from .._errors import ArgumentTypeError, SandboxViolation, ValidationError
from .._validate import integer, optional
from . import abi, runtime
from .limits import Limits

log = logging.getLogger("chimera.agent")

# Results are pre-filled with this NaN; the first still holding it after a trap is the one
# whose evaluation was stopped (agents write results in order, as the ABI says).
_UNWRITTEN = np.uint64(0x7FF8_C41B_DEAD_0001)
_LOG_LIMIT = 4096  # bytes of one chimera.log message kept
_LOG_CALLS = 100  # chimera.log messages kept per call into the module
_MAX_OBJECTIVES = 1024
_MAX_DIM = 1 << 20

_TRAPS = {
    wasmtime.TrapCode.OUT_OF_FUEL: "out of fuel",
    wasmtime.TrapCode.INTERRUPT: "deadline",
    wasmtime.TrapCode.STACK_OVERFLOW: "stack overflow",
    wasmtime.TrapCode.UNREACHABLE: "unreachable",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "out-of-bounds access",
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: "integer division by zero",
    wasmtime.TrapCode.INTEGER_OVERFLOW: "integer overflow",
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: "bad conversion to integer",
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: "table out of bounds",
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: "indirect call to null",
    wasmtime.TrapCode.BAD_SIGNATURE: "bad signature",
}


@dataclass
class Evaluation:
    """A batch's objectives, ``(n,)`` for one objective or ``(n, m)``, with ``worst_fitness``
    where a violation struck, the violations by individual, and the fuel (wasm instructions)
    the whole batch spent, None where it is not known (one served evaluation of a batch)."""

    fitness: np.ndarray
    violations: dict[int, SandboxViolation] = field(default_factory=dict)
    fuel: int | None = None


class _LogSink:
    """The ``chimera.log`` import: a module's messages to the host's log, at most
    ``_LOG_CALLS`` a call. It holds nothing of the sandbox: wasmtime keeps an import's
    callable until its Store is freed, so one that held the sandbox (which holds the Store)
    would keep both, and the instance's whole linear memory, alive forever."""

    def __init__(self, name: str) -> None:
        self.name, self.calls = name, 0

    def __call__(self, caller: Any, ptr: int, length: int) -> None:
        self.calls += 1
        if self.calls > _LOG_CALLS:
            if self.calls == _LOG_CALLS + 1:
                log.info("%s: more messages in this call dropped", self.name)
            return
        start = ptr & 0xFFFFFFFF  # an i32 pointer is unsigned
        data = caller["memory"].read(caller, start, start + min(max(length, 0), _LOG_LIMIT))
        log.info("%s: %s", self.name, bytes(data).decode("utf-8", "replace"))


class _Sandbox:
    """One thread's Store and instance of an agent."""

    def __init__(self, agent: WasmAgent) -> None:
        self.limits = agent.limits
        self.store = wasmtime.Store(agent.engine)
        self.store.set_limits(memory_size=self.limits.memory, table_elements=self.limits.tables,
                              instances=1, tables=4, memories=1)  # fmt: skip
        self.log = _LogSink(agent.name)
        self.store.set_fuel(self.limits.fuel)
        self.store.set_epoch_deadline(self.limits.ticks)
        linker = wasmtime.Linker(agent.engine)
        if ("chimera", "log") in agent.interface.imports:
            linker.define_func("chimera", "log", wasmtime.FuncType(
                [wasmtime.ValType.i32(), wasmtime.ValType.i32()], []), self.log,
                access_caller=True)  # fmt: skip
        self.instance = linker.instantiate(self.store, agent.module)
        self.exports: Any = self.instance.exports(self.store)
        self.memory: Any = self.exports["memory"]
        self.buffer: Any = self.exports["chimera_buffer"]
        self.evaluate: Any = self.exports["chimera_evaluate"]
        self.capacity, self.base = 0, 0
        self.name = agent.name

    def start(self) -> _Sandbox:
        """Runs the module's ``_initialize`` (the reactor model), if it has one."""
        if "_initialize" in self.exports:
            self.exports["_initialize"](self.store)
        return self

    def region(self, nbytes: int) -> int:
        """The module's buffer of at least nbytes: 0 if it cannot grow that far, -1 if it gave
        a region that is not inside its memory or not 8-byte aligned."""
        if nbytes > self.capacity:
            self.store.set_fuel(self.limits.fuel)
            self.store.set_epoch_deadline(self.limits.ticks)
            self.log.calls = 0
            base = self.buffer(self.store, nbytes) & 0xFFFFFFFF
            inside = base % 8 == 0 and base + nbytes <= self.memory.data_len(self.store)
            self.base = base if base == 0 or inside else -1
            self.capacity = nbytes if self.base > 0 else 0
        return self.base

    def view(self) -> np.ndarray:
        """Linear memory as bytes (taken anew after every call: memory may move on growth)."""
        return np.ctypeslib.as_array(self.memory.data_ptr(self.store),
                                     (self.memory.data_len(self.store),))  # fmt: skip

    def at_memory_limit(self, nbytes: int = abi.PAGE) -> bool:
        """Whether growing the memory by ``nbytes`` would pass the limit."""
        return self.memory.data_len(self.store) + nbytes > self.limits.memory


class WasmAgent:
    """A sandboxed agent: ``agent(X)`` -> objectives of the ``(n, dim)`` genomes X (the form
    ``chimera.minimize`` takes), ``agent.evaluate(X)`` -> :class:`Evaluation` with the
    violations too.

    ``module``: the ``.wasm`` bytes, a path to them, or WebAssembly text. ``dim``: the genome
    length, required when the module does not fix one (``chimera_dim`` returning 0). The module
    is checked against the agent ABI (docs/agent-abi.md) before anything runs.
    """

    def __init__(self, module: bytes | str | Path, *, dim: int | None = None,
                 limits: Limits | None = None, name: str | None = None) -> None:  # fmt: skip
        self.limits = limits if limits is not None else Limits()
        if not isinstance(self.limits, Limits):
            raise ArgumentTypeError(f"limits must be a chimera.execution.Limits, got {limits!r}")
        optional(name, str, "name", "a str")
        data, self.name = _load(module, name)
        self.engine = runtime.engine(self.limits.stack)
        try:
            self.module = runtime.compile_module(data, self.limits.stack)
        except wasmtime.WasmtimeError as exc:
            raise ValidationError(
                f"agent {self.name} is not a valid WebAssembly module: {_describe(exc)}"
            ) from exc
        self.interface = abi.check(self.module, self.limits, self.name)
        self._local = threading.local()
        try:  # what the module defines (tables, memories, data, a start function) fits or not
            sb = _Sandbox(self)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise ValidationError(
                f"agent {self.name} cannot be instantiated under its limits: {_describe(exc)}"
            ) from exc
        try:
            self._local.sandbox = sb.start()
            ex = sb.exports
            version = ex["chimera_abi_version"](sb.store)
            fixed = ex["chimera_dim"](sb.store) if "chimera_dim" in ex else 0
            self.n_obj = ex["chimera_objectives"](sb.store) if "chimera_objectives" in ex else 1
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise SandboxViolation(f"agent {self.name} failed to start: {_describe(exc)}") from exc
        if version != abi.VERSION:
            raise ValidationError(
                f"agent {self.name} speaks agent ABI version {version}; this host speaks {abi.VERSION}"
            )
        if not 1 <= self.n_obj <= _MAX_OBJECTIVES:
            raise ValidationError(
                f"agent {self.name} reports {self.n_obj} objectives (1 to {_MAX_OBJECTIVES})"
            )
        if not 0 <= fixed <= _MAX_DIM:
            raise ValidationError(f"agent {self.name} reports a genome length of {fixed}")
        if dim is not None:
            integer(dim, "dim", 1, _MAX_DIM)
        if fixed and dim is not None and dim != fixed:
            raise ValidationError(f"dim={dim}, but agent {self.name} takes genomes of length "
                                  f"{fixed}: leave dim out")  # fmt: skip
        if not fixed and dim is None:
            raise ValidationError(f"agent {self.name} takes genomes of any length: give dim=")
        self.dim = int(fixed or dim)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"WasmAgent({self.name!r}, dim={self.dim}, n_obj={self.n_obj})"

    def _sandbox(self) -> _Sandbox:
        sb = getattr(self._local, "sandbox", None)
        if sb is None:
            sb = self._local.sandbox = _Sandbox(self).start()
        return sb

    def __call__(self, X: npt.ArrayLike) -> np.ndarray:
        return self.evaluate(X).fitness

    def evaluate(self, X: npt.ArrayLike, first: int = 0) -> Evaluation:
        """Objectives of the rows of X; violations contained per individual, numbered from
        ``first`` (the batch position of X's first row, when X is a shard of a larger batch)."""
        X = self.genomes(X)
        first = integer(first, "first", 0)
        n, m = X.shape[0], self.n_obj
        runtime.ensure_ticker()
        out = np.empty((n, m))
        reasons: dict[int, str] = {}
        # A call's genomes and results must fit the memory limit.
        chunk = max(1, min(self.limits.chunk, self.limits.memory // (8 * (self.dim + m))))
        fuel = sum(self._run(X, start, min(start + chunk, n), out, reasons)
                   for start in range(0, n, chunk))  # fmt: skip
        for i in np.flatnonzero(~np.isfinite(out).all(axis=1)).tolist():
            reasons.setdefault(i, "non-finite result")
        violations = {}
        for i, reason in sorted(reasons.items()):
            out[i] = self.limits.worst_fitness
            violations[first + i] = SandboxViolation(
                f"agent {self.name}: individual {first + i} was stopped: {reason}",
                reason,
                first + i,
            )
        return Evaluation(out[:, 0] if m == 1 else out, violations, fuel)

    def genomes(self, X: npt.ArrayLike) -> np.ndarray:
        """X as a checked ``(n, dim)`` float64 array (ValidationError otherwise)."""
        if X is None or isinstance(X, (str, bytes)):
            raise ArgumentTypeError(f"X must be genomes (an (n, {self.dim}) array), got {X!r:.40}")
        try:
            X = np.ascontiguousarray(X, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"X must be genomes of numbers: {exc}") from exc
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValidationError(f"X must be genomes of length {self.dim} for agent {self.name} "
                                  f"(an (n, {self.dim}) array): got shape {X.shape}")  # fmt: skip
        if not np.isfinite(X).all():
            raise ValidationError("X must be finite genomes (no NaN or infinity)")
        return X

    def _run(self, X: np.ndarray, start: int, stop: int, out: np.ndarray,
             reasons: dict[int, str]) -> int:  # fmt: skip
        """Individuals start..stop-1, in one call unless traps strike: after each, the rest go
        in calls of half the size, so that runaways cannot multiply each other's budgets.
        Returns the fuel the calls spent."""
        d, m = self.dim, self.n_obj
        size, spent = stop - start, 0
        while start < stop:
            try:
                sb = self._sandbox()
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                for i in range(start, stop):
                    reasons[i] = f"failed to restart: {_describe(exc)}"
                return spent
            k = min(size, stop - start)
            gbytes, rbytes = 8 * k * d, 8 * k * m
            try:
                base = sb.region(gbytes + rbytes)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                base, why = 0, _reason(exc, sb)
                self._drop_sandbox()
            else:  # 0: the module has no buffer that large; -1: outside its memory
                why = ("a region outside its memory" if base < 0
                       else "memory limit" if sb.at_memory_limit(gbytes + rbytes)
                       else f"chimera_buffer returned 0 for {gbytes + rbytes} bytes")  # fmt: skip
            if base <= 0:
                for i in range(start, stop):
                    reasons[i] = f"no buffer for the batch: {why}"
                return spent
            mem = sb.view()
            mem[base : base + gbytes] = X[start : start + k].view(np.uint8).ravel()
            mem[base + gbytes : base + gbytes + rbytes].view(np.uint64)[:] = _UNWRITTEN
            sb.store.set_fuel(self.limits.fuel * k)
            sb.store.set_epoch_deadline(self.limits.ticks * k)
            sb.log.calls = 0
            try:
                code = sb.evaluate(sb.store, base, k, d, base + gbytes)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                spent += self.limits.fuel * k - sb.store.get_fuel()
                raw = sb.view()[base + gbytes : base + gbytes + rbytes].view(np.uint64)
                unwritten = np.flatnonzero((raw.reshape(k, m) == _UNWRITTEN).any(axis=1))
                # a trap after every result was written is charged to the last individual
                j = int(unwritten[0]) if unwritten.size else k - 1
                out[start : start + j] = raw.reshape(k, m)[:j].view(np.float64)
                reasons[start + j] = _reason(exc, sb)
                start += j + 1
                size = max(1, size // 2)
                self._drop_sandbox()  # a trapped instance's state is not trusted
                continue
            spent += self.limits.fuel * k - sb.store.get_fuel()
            if code != abi.OK:
                why = abi.ERRORS.get(code, f"error code {code}")
                for i in range(start, start + k):
                    reasons[i] = f"agent error: {why}"
            else:
                raw = sb.view()[base + gbytes : base + gbytes + rbytes]
                out[start : start + k] = raw.view(np.float64).reshape(k, m)
            start += k
        return spent

    def _drop_sandbox(self) -> None:
        self._local.sandbox = None


def _reason(exc: Exception, sb: _Sandbox) -> str:
    code = getattr(exc, "trap_code", None)
    if code == wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS and sb.at_memory_limit():
        return "memory limit"
    if code in _TRAPS:
        return _TRAPS[code]
    return f"trap: {_describe(exc)}"


def _describe(exc: Exception) -> str:
    """The trap's name, else the innermost cause wasmtime gives (after its "Caused by:")."""
    code = getattr(exc, "trap_code", None)
    if code in _TRAPS:
        return _TRAPS[code]
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if "Caused by:" in lines else lines[0]


def _load(module: bytes | str | Path, name: str | None) -> tuple[bytes, str]:
    if isinstance(module, Path) or (isinstance(module, str) and module.endswith(".wasm")):
        path = Path(module)
        try:
            return path.read_bytes(), name or path.stem
        except OSError as exc:
            raise ValidationError(f"cannot read the agent module {path}: {exc}") from exc
    if isinstance(module, str):
        try:
            return bytes(wasmtime.wat2wasm(module)), name or "agent"
        except wasmtime.WasmtimeError as exc:
            raise ValidationError(
                f"module is neither a .wasm path nor valid WebAssembly text ({_describe(exc)}): "
                "give the path of a .wasm file, its bytes, or the text of a module"
            ) from exc
    if isinstance(module, (bytes, bytearray, memoryview)):
        return bytes(module), name or "agent"
    raise ValidationError(
        f"module must be .wasm bytes, a path or WebAssembly text, got {type(module).__name__}"
    )

"""The agent ABI, version 1 (docs/agent-abi.md): what a module must export, what it may import,
and the checks that refuse a module before it is instantiated."""

from __future__ import annotations

from dataclasses import dataclass

import wasmtime

from .._errors import ValidationError
from .limits import Limits

VERSION = 1
PAGE = 65536

# Error codes chimera_evaluate returns.
OK, BAD_DIMENSION, BAD_ARGUMENT = 0, -1, -2
ERRORS = {BAD_DIMENSION: "bad dimension", BAD_ARGUMENT: "bad argument"}

I32 = "i32"
Signature = tuple[tuple[str, ...], tuple[str, ...]]
# name -> (params, results); the required exports, then the optional ones.
REQUIRED: dict[str, Signature] = {
    "chimera_abi_version": ((), (I32,)),
    "chimera_buffer": ((I32,), (I32,)),
    "chimera_evaluate": ((I32, I32, I32, I32), (I32,)),
}
OPTIONAL: dict[str, Signature] = {
    "chimera_objectives": ((), (I32,)),
    "chimera_dim": ((), (I32,)),
    "chimera_act": ((I32, I32), (I32,)),
    "_initialize": ((), ()),
}
# The imports an agent may use: (module, name) -> (params, results).
ALLOWED_IMPORTS: dict[tuple[str, str], Signature] = {("chimera", "log"): ((I32, I32), ())}


@dataclass(frozen=True)
class Interface:
    """What a checked module offers."""

    exports: frozenset[str]
    imports: frozenset[tuple[str, str]]


def _signature(t: wasmtime.FuncType) -> Signature:
    return tuple(str(p) for p in t.params), tuple(str(r) for r in t.results)


def check(module: wasmtime.Module, limits: Limits, name: str) -> Interface:
    """Every violation of the ABI at once, as one ValidationError; else the interface."""
    problems = []
    imports = set()
    for imp in module.imports:
        key = (imp.module, imp.name or "")
        imports.add(key)
        want = ALLOWED_IMPORTS.get(key)
        if want is None:
            problems.append(
                f"imports {key[0]}.{key[1]}, which is not on the allow-list "
                f"({', '.join(f'{m}.{n}' for m, n in ALLOWED_IMPORTS)})"
            )
        elif not isinstance(imp.type, wasmtime.FuncType) or _signature(imp.type) != want:
            problems.append(f"imports {key[0]}.{key[1]} with the wrong type (want {want})")
    exports = {e.name: e.type for e in module.exports}
    memory = exports.get("memory")
    initial = 0
    if not isinstance(memory, wasmtime.MemoryType):
        problems.append("exports no linear memory named 'memory'")
    else:
        initial = memory.limits.min * PAGE
        if memory.is_64 or memory.is_shared:
            problems.append("its memory must be a plain 32-bit, unshared memory")
        if initial > limits.memory:
            problems.append(
                f"starts with {initial} bytes of memory, above the limit of {limits.memory}"
            )
    for export, want in {**REQUIRED, **OPTIONAL}.items():
        t = exports.get(export)
        if t is None:
            if export in REQUIRED:
                problems.append(f"lacks the export {export}{want}")
        elif not isinstance(t, wasmtime.FuncType) or _signature(t) != want:
            problems.append(f"exports {export} with the wrong type (want {want})")
    if problems:
        raise ValidationError(f"agent {name} breaks the agent ABI: " + "; ".join(problems))
    return Interface(frozenset(exports), frozenset(imports))

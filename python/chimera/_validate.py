"""Checks at the public boundary: bounds, fitness, seeds. Each error names the argument."""

from __future__ import annotations

import difflib
import functools
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import ArgumentTypeError, FitnessError, ValidationError

GENOME_DTYPES = {
    "float64": np.dtype(np.float64),
    "float32": np.dtype(np.float32),
    "int32": np.dtype(np.int32),
    "bool": np.dtype(np.bool_),
}


def genome_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except Exception as exc:  # NumPy parses strings: "01" raises a SyntaxError
        raise ValidationError(f"dtype must be one of {', '.join(GENOME_DTYPES)}, got "
                              f"{dtype!r}") from exc  # fmt: skip
    if dt not in GENOME_DTYPES.values():
        raise ValidationError(f"dtype must be one of {', '.join(GENOME_DTYPES)}, got {dt}")
    return dt


def matrix(value: Any, name: str, shape: str, columns: int, what: str) -> np.ndarray:
    """``value`` as a float64 array of one row or more and ``columns`` columns, or a
    ValidationError naming ``name`` and the ``shape`` it needs; ``what`` says what the rows are."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"{name} must be a {shape} array of {what}: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != columns or arr.shape[0] < 1:
        raise ValidationError(f"{name} must have shape {shape}, one row or more, got {arr.shape}")
    return arr


def as_bounds(bounds: Any, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float64 arrays from a (dim, 2) sequence of pairs or an object with lb/ub."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        try:
            low = np.asarray(bounds.lb, dtype=np.float64)
            high = np.asarray(bounds.ub, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(
                f"bounds.lb and bounds.ub must be arrays of numbers: {exc}"
            ) from None
    else:
        arr = matrix(bounds, "bounds", "(dim, 2)", 2, "(low, high) pairs")
        low, high = arr[:, 0].copy(), arr[:, 1].copy()
    if low.shape != high.shape or low.ndim != 1 or low.size < 1:
        raise ValidationError("bounds: low and high must be 1-D arrays of the same length >= 1")
    bad = ~(np.isfinite(low) & np.isfinite(high))
    if bad.any():
        raise ValidationError(f"bounds must be finite; genes {_first(np.flatnonzero(bad))} are not")
    bad = low >= high
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"bounds need low < high for every gene; genes {_first(np.flatnonzero(bad))} violate it "
            f"(gene {i}: low={low[i]!r}, high={high[i]!r})"
        )
    # Genes are drawn as low + u (high - low) in double: the range must be finite there, and
    # both ends must fit the genome's type.
    top = float(np.finfo(dtype).max) if dtype.kind == "f" else math.inf
    with np.errstate(over="ignore"):
        wide = ~np.isfinite(high - low) | (np.maximum(np.abs(low), np.abs(high)) > top)
    if wide.any():
        i = int(np.flatnonzero(wide)[0])
        raise ValidationError(
            f"bounds of genes {_first(np.flatnonzero(wide))} span more than {dtype} can hold "
            f"(gene {i}: [{low[i]:g}, {high[i]:g}]); rescale the problem"
            + (" or use dtype float64" if dtype != np.float64 else "")
        )
    if dtype.kind in "ib":
        if not (np.all(low == np.round(low)) and np.all(high == np.round(high))):
            raise ValidationError(f"bounds of a {dtype} genome must be whole numbers")
        info = np.iinfo(np.int32)
        if low.min() < info.min or high.max() > info.max or np.any(high - low >= 2.0**32 - 1):
            raise ValidationError("bounds of an int32 genome must lie in the int32 range")
        if dtype.kind == "b" and (np.any(low != 0) or np.any(high != 1)):
            raise ValidationError("bounds of a bool genome must be (0, 1) for every gene")
    return np.ascontiguousarray(low), np.ascontiguousarray(high)


def check_objectives(
    F: npt.ArrayLike, n: int, n_obj: int, nan_policy: str, sign: float = 1.0
) -> np.ndarray:
    """Objectives as a float64 ``(n, n_obj)`` array to minimise (``sign`` -1 flips a
    maximised objective); NaN/inf raise or become the worst value. With one objective the
    values are called fitness, and ``(n,)`` or ``(n, 1)`` is accepted."""
    what = "fitness" if n_obj == 1 else "objectives"
    try:
        a = np.asarray(F)
    except Exception as exc:
        raise FitnessError(f"{what} could not be read as an array: {exc}") from exc
    if a.dtype.kind not in "biufc":  # bool, integers, floats (complex refused below)
        raise FitnessError(f"{what} must be numeric, got dtype {a.dtype}")
    if a.dtype.kind == "c":
        raise FitnessError(f"{what} must be real, got complex values")
    if a.ndim == 1 and n_obj == 1:
        a = a[:, None]
    if n_obj == 1 and a.shape != (n, 1):
        hint = ""
        if a.size == 1 and n > 1:
            hint = (f"; it returned one number for {n} genomes: if it scores one genome at a time, "
                    "pass vectorized=False (in a spec: objective.vectorized = false)")  # fmt: skip
        elif a.ndim == 2 and a.shape[0] == n:
            hint = (f"; it returned {a.shape[1]} values per genome: for {a.shape[1]} objectives "
                    f"pass n_obj={a.shape[1]} (in a spec: objective.n_obj = {a.shape[1]})")  # fmt: skip
        raise FitnessError(
            f"fitness must have shape ({n},), one value per individual asked, got "
            f"{np.shape(F)}{hint}"
        )
    if a.ndim != 2 or a.shape[0] != n:
        raise FitnessError(
            f"objectives must have shape ({n}, {n_obj}), one row per individual asked and "
            f"n_obj={n_obj} columns, got {np.shape(F)}"
        )
    if a.shape[1] != n_obj:
        raise FitnessError(
            f"the objective returned {a.shape[1]} values per individual but n_obj={n_obj}; "
            "pass the matching n_obj"
        )
    a = a.astype(np.float64, copy=True)
    if sign != 1.0:
        np.negative(a, out=a)
    if not np.isfinite(a).all():  # the rare case pays for the mask
        bad = ~np.isfinite(a)
        rows = np.flatnonzero(bad.any(axis=1))
        if nan_policy == "raise":
            verb = "is" if n_obj == 1 else "are"
            raise FitnessError(
                f"{what} of individuals {_first(rows)} {verb} NaN or infinite; fix the objective "
                "or pass nan_policy='worst' to treat such values as the worst"
            )
        a[bad] = np.inf
    return a


def check_nan_policy(nan_policy: str) -> str:
    if not isinstance(nan_policy, str) or nan_policy not in ("raise", "worst"):
        raise ValidationError(f"nan_policy must be 'raise' or 'worst', got {nan_policy!r}")
    return nan_policy


def as_seed(seed: Any) -> int:
    """A 64-bit seed; ``None`` draws one from the operating system."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValidationError(f"seed must be an integer or None, got {seed!r}")
    if not 0 <= int(seed) < 2**64:
        raise ValidationError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


def did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the choice closest to a misspelt ``value``, else ""."""
    close = difflib.get_close_matches(str(value).strip().lower(), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@functools.cache  # asked on hot paths (a bandit's batch of decisions): the machine's, once
def physical_memory() -> float:
    """Bytes of memory this machine has (infinite where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return math.inf


def fits_in_memory(nbytes: float, what: str) -> None:
    """Refuses, before anything is allocated, ``what`` whose arrays would need ``nbytes``
    more than this machine's memory, saying how much it would need."""
    total = physical_memory()
    if nbytes > total:
        need = min(nbytes, 10**300) / 2**30  # a size past float's range is still refused
        raise ValidationError(f"{what} would need {need:,.1f} GiB of memory, more than this "
                              f"machine's {total / 2**30:,.1f} GiB; make it smaller")  # fmt: skip


def _first(rows: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f", ... ({rows.size} in all)" if rows.size > limit else "")


#: The largest count a run keeps (generations, evaluations): the kernels count in int64.
MAX_COUNT = 2**62


def integer(value: Any, name: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high`` defaults to :data:`MAX_COUNT`: no count,
    id or size is larger, and a larger one would overflow a database or a C integer; bools
    refused), or a ValidationError naming ``name`` and the range: the one integer check of the
    public boundary."""
    top = MAX_COUNT if high is None else high
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))
    if ok and low <= value <= top:
        return int(value)
    if high is not None:
        want = f"an integer in [{low}, {high}]"
    else:
        want = "a positive integer" if low == 1 else f"an integer >= {low}"
        want += " (at most 2**62)" if ok and value > top else ""
    raise ValidationError(f"{name} must be {want}, got {value!r}")


def real(value: Any, name: str, low: float = -math.inf, high: float = math.inf, *,
         open_low: bool = False, open_high: bool = False, want: str | None = None) -> float:  # fmt: skip
    """``value`` as a finite float between ``low`` and ``high`` (each end excluded when open;
    bools and ints too large for a float refused), or a ValidationError naming ``name`` and
    what it must be (``want``: the caller's words for it)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    try:
        v = float(value) if ok else math.nan
    except OverflowError:
        v = math.nan
    above = v > low if open_low else v >= low
    below = v < high if open_high else v <= high
    if math.isfinite(v) and above and below:
        return v
    if want is None and math.isinf(high):
        want = f"a finite number > {low:g}" if open_low else f"a finite number >= {low:g}"
        want = "finite (a number)" if math.isinf(low) else want
    elif want is None:
        ends = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        want = f"a finite number in {ends}"
    raise ValidationError(f"{name} must be {want}, got {value!r}")


def boolean(value: Any, name: str) -> bool:
    """``value`` as a bool (True or False, NumPy's too), or a ValidationError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """``value`` as one of the strings ``choices``, or a ValidationError naming ``name``."""
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ValidationError(f"{name} must be one of {', '.join(options)}, got {value!r}"
                              f"{did_you_mean(value, options)}")  # fmt: skip
    return value


def seconds(value: Any, name: str, *, zero: bool = False) -> float:
    """``value`` as finite seconds, > 0 (or >= 0 with ``zero``), or a ValidationError."""
    return real(value, name, 0.0, open_low=not zero,
                want=f"finite seconds {'>= 0' if zero else '> 0'}")  # fmt: skip


#: The most threads a pool or scheduler starts: past this, threads are the wrong tool (and a
#: huge count would exhaust the process's threads before any error).
MAX_THREADS = 1024


def workers(value: Any, name: str = "workers") -> int:
    """A thread count, 1 to :data:`MAX_THREADS`, or a ValidationError that says so."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if is_int and int(value) > MAX_THREADS:
        raise ValidationError(
            f"{name} must be at most {MAX_THREADS} threads, got {value}; for more, run "
            "processes on several machines (a Dask cluster)"
        )
    return integer(value, name, 1, MAX_THREADS)


def iterable(value: Any, name: str, what: str) -> list[Any]:
    """``value``'s items as a list, or an ArgumentTypeError naming ``name`` (a string or a
    mapping is not taken for a sequence of ``what``)."""
    items = None
    if not isinstance(value, (str, bytes, dict)):
        try:
            items = list(value)
        except TypeError:  # not iterable (a 0-d array says so only when iterated)
            items = None
    if items is None:
        raise ArgumentTypeError(f"{name} must be an iterable of {what}, got {value!r:.80}")
    return items


def path(value: Any, name: str) -> Path:
    """``value`` as a filesystem path (a str or os.PathLike), or an ArgumentTypeError."""
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value)
    raise ArgumentTypeError(f"{name} must be a path (a str or pathlib.Path), got {value!r:.80}")


def optional(value: Any, kind: type | tuple[type, ...], name: str, what: str) -> None:
    """Refuses ``value`` unless it is None or a ``kind``: an ArgumentTypeError saying ``name``
    must be ``what`` (the caller's words, e.g. "a Metrics")."""
    if value is not None and not isinstance(value, kind):
        raise ArgumentTypeError(f"{name} must be {what}, got {type(value).__name__}")

"""Non-dominated sorting: chimera's pareto_rank against moocore, pymoo, pygmo and DEAP.

The work: N points drawn uniformly from the unit cube [0, 1)^M (seeded), every point given
its 0-based Pareto front (minimisation). N in {1000, 5000, 20000, 100000}, M in {2, 3, 5}.
Every library ranks the same array in the same process, and its ranks must equal chimera's
exactly (a library's list of fronts is turned into a rank array outside the timed region).

What is timed, per library (the call that produces the library's own answer):

- ``chimera cpp`` / ``chimera numba``: ``chimera.evolution.pareto_rank(F, backend=...)``
  (the public function: input check, then the kernel); numba after a warm-up call, so JIT
  compilation is excluded.
- ``moocore``: ``moocore.pareto_rank(F)``.
- ``pymoo NDS``: ``NonDominatedSorting().do(F)`` with its default method (in pymoo 0.6.2 the
  default calls moocore.pareto_rank and splits the ranks into a list of fronts).
- ``pymoo cython FNDS``: pymoo's compiled ``fast_non_dominated_sort`` (Deb's O(M N^2)
  algorithm, what ``NonDominatedSorting`` ran before 0.6.2), as an extra row.
- ``pygmo``: ``pygmo.fast_non_dominated_sorting(F)`` (C++, O(M N^2)); its ``ndr`` is the rank.
- ``deap``: ``tools.sortNondominated(inds, len(inds))`` on individuals built once, outside the
  timed region; ``deap log`` is ``tools.sortLogNondominated`` (Fortin et al. 2013), as an extra.

The O(N^2) libraries are skipped where a call is projected (from the last N measured at the
same M, times (N / N_last)^2) to take more than ``--max-call`` seconds, and pygmo and pymoo's
cython sort stop at N = 20,000 (their memory grows as N^2 as well). Median of ``--repeats``
samples (5), interleaved across libraries so that drift on a shared machine hits them alike;
a sample of a fast call runs it back to back for about 50 ms and divides (so that it is not
one cold call after another library flushed the caches); calls over 2 s are sampled 3 times,
calls over 10 s once.

A floor table follows: ``np.sort`` and ``np.argsort`` of one column of the same N, against
chimera's time at M = 2 (whose algorithm is a sort plus one binary search per point).

Usage::

    python benchmarks/bench_pareto.py                    # full run, a few minutes
    python benchmarks/bench_pareto.py --quick            # smoke test (N <= 5000, 2 repeats)
    python benchmarks/bench_pareto.py --sizes 1000,20000 --objs 2,5 --json out.json
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table
from _moo import available, loadavg, save, spread, timed

SIZES = (1000, 5000, 20000, 100000)
OBJS = (2, 3, 5)
REFERENCE = "chimera cpp"
# Libraries called once already: a first call pays for loading (it made the first case a
# series of single cold calls, 0.1 ms where the warm call takes 0.04 at N = 1,000).
_WARMED: set[str] = set()
SAMPLE_S = 0.05  # a timed sample of a fast call repeats it for about this long


def points(n: int, m: int, seed: int) -> np.ndarray:
    """The seeded uniform random points of one configuration."""
    return np.random.default_rng([seed, n, m]).random((n, m))


def ranks_from_fronts(fronts: list[Any], n: int) -> np.ndarray:
    """A rank array from a list of fronts (each a sequence of row indices)."""
    rank = np.full(n, -1, dtype=np.int64)
    for k, front in enumerate(fronts):
        rank[np.asarray(front, dtype=np.int64)] = k
    return rank


@dataclass
class Contender:
    """One library's non-dominated sort.

    ``prepare(F)`` builds the library's input outside the timed region, ``run(state)`` is the
    timed call, ``ranks(result, n)`` turns its answer into a rank array (untimed).
    """

    name: str
    module: str  # the import that must work
    prepare: Callable[[np.ndarray], Any]
    run: Callable[[Any], Any]
    ranks: Callable[[Any, int], np.ndarray]
    exponent: float = 0.0  # > 0: skip when (N / N_last)^exponent projects past --max-call
    max_n: int | None = None  # hard cap (memory)
    note: str = ""


# --- chimera ---------------------------------------------------------------------------------


def _chimera(backend: str) -> Contender:
    def run(F: np.ndarray) -> np.ndarray:
        from chimera.evolution import pareto_rank

        return pareto_rank(F, backend=backend)

    return Contender(
        f"chimera {backend}",
        "chimera",
        lambda F: F,
        run,
        lambda r, n: np.asarray(r, dtype=np.int64),
        note="pareto_rank(F, backend=...)",
    )


# --- moocore ---------------------------------------------------------------------------------


def _moocore() -> Contender:
    def run(F: np.ndarray) -> np.ndarray:
        import moocore

        return moocore.pareto_rank(F)

    return Contender(
        "moocore",
        "moocore",
        lambda F: F,
        run,
        lambda r, n: np.asarray(r, dtype=np.int64),
        note="moocore.pareto_rank(F)",
    )


# --- pymoo -----------------------------------------------------------------------------------


def _pymoo_nds() -> Contender:
    def prepare(F: np.ndarray) -> Any:
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        return NonDominatedSorting(), F

    return Contender(
        "pymoo NDS",
        "pymoo",
        prepare,
        lambda s: s[0].do(s[1]),
        ranks_from_fronts,
        note="NonDominatedSorting().do(F), default method (moocore.pareto_rank inside)",
    )


def _pymoo_cython() -> Contender:
    def prepare(F: np.ndarray) -> Any:
        from pymoo.functions import load_function

        return load_function("fast_non_dominated_sort", "cython"), F

    return Contender(
        "pymoo cython FNDS",
        "pymoo",
        prepare,
        lambda s: s[0](s[1]),
        ranks_from_fronts,
        exponent=2.0,
        max_n=20000,
        note="pymoo.functions.compiled fast_non_dominated_sort (Deb's O(MN^2))",
    )


# --- pygmo -----------------------------------------------------------------------------------


def _pygmo() -> Contender:
    def run(F: np.ndarray) -> Any:
        import pygmo as pg

        return pg.fast_non_dominated_sorting(F)

    def ranks(out: Any, n: int) -> np.ndarray:
        ndf, _dl, _dc, ndr = out
        r = np.asarray(ndr, dtype=np.int64)
        # the list of fronts must say the same as the rank vector
        if not np.array_equal(ranks_from_fronts(list(ndf), n), r):
            raise AssertionError("pygmo's ndf and ndr disagree")
        return r

    return Contender(
        "pygmo",
        "pygmo",
        lambda F: F,
        run,
        ranks,
        exponent=2.0,
        max_n=20000,
        note="pygmo.fast_non_dominated_sorting(F) (C++, O(MN^2))",
    )


# --- DEAP ------------------------------------------------------------------------------------


def _deap_individuals(F: np.ndarray) -> tuple[list[Any], dict[int, int]]:
    """DEAP individuals carrying the rows of F as (minimised) fitness values."""
    from deap import base, creator

    m = F.shape[1]
    fit, ind = f"ParetoBenchFitness{m}", f"ParetoBenchIndividual{m}"
    if not hasattr(creator, fit):
        creator.create(fit, base.Fitness, weights=(-1.0,) * m)
        creator.create(ind, list, fitness=getattr(creator, fit))
    cls = getattr(creator, ind)
    inds = []
    for row in F.tolist():
        x = cls()
        x.fitness.values = tuple(row)
        inds.append(x)
    return inds, {id(x): i for i, x in enumerate(inds)}


def _deap(log: bool) -> Contender:
    def run(state: tuple[list[Any], dict[int, int]]) -> Any:
        from deap import tools

        inds = state[0]
        sort = tools.sortLogNondominated if log else tools.sortNondominated
        return sort(inds, len(inds)), state[1]

    def ranks(out: Any, n: int) -> np.ndarray:
        fronts, where = out
        return ranks_from_fronts([[where[id(x)] for x in front] for front in fronts], n)

    return Contender(
        "deap log" if log else "deap",
        "deap",
        _deap_individuals,
        run,
        ranks,
        exponent=1.5 if log else 2.0,
        max_n=None,
        note=(
            "tools.sortLogNondominated(inds, len(inds))"
            if log
            else "tools.sortNondominated(inds, len(inds)) (O(MN^2) in Python)"
        ),
    )


def contenders() -> list[Contender]:
    return [
        _chimera("cpp"),
        _chimera("numba"),
        _moocore(),
        _pymoo_nds(),
        _pymoo_cython(),
        _pygmo(),
        _deap(log=False),
        _deap(log=True),
    ]


# --- measurement -----------------------------------------------------------------------------


def repeats_for(seconds: float, repeats: int) -> int:
    """Fewer repeats for slow calls: 3 above 2 s, 1 above 10 s."""
    if seconds > 10.0:
        return 1
    if seconds > 2.0:
        return min(repeats, 3)
    return repeats


def measure_config(
    todo: list[Contender],
    n: int,
    m: int,
    *,
    seed: int,
    repeats: int,
    max_call: float,
    last: dict[tuple[str, int], tuple[int, float]],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Time every contender on one (N, M); returns the rows and the skipped ones (why)."""
    F = points(n, m, seed)
    skipped: dict[str, str] = {}
    active: list[tuple[Contender, Any]] = []
    for c in todo:
        if c.max_n is not None and n > c.max_n:
            skipped[c.name] = f"N > {c.max_n} (O(N^2) time and memory)"
            continue
        prev = last.get((c.name, m))
        if c.exponent > 0 and prev is not None:
            projected = prev[1] * (n / prev[0]) ** c.exponent
            if projected > max_call:
                skipped[c.name] = f"projected {projected:.0f} s per call > {max_call:g} s"
                continue
        active.append((c, c.prepare(F)))

    samples: dict[str, list[float]] = {c.name: [] for c, _ in active}
    cpu: dict[str, list[float]] = {c.name: [] for c, _ in active}
    wanted: dict[str, int] = {}
    inner: dict[str, int] = {}
    answers: dict[str, np.ndarray] = {}
    # First call: a warm-up (caches, page faults), kept as a sample when it is slow. A fast
    # call is repeated back to back within a sample (about SAMPLE_S of work), so that a
    # sample is not one cold call after another library has flushed the caches.
    for c, state in active:
        if c.name not in _WARMED:  # the process's first call: imports, kernel loads, JIT
            c.run(state)
            _WARMED.add(c.name)
        wall, used, out = timed(functools.partial(c.run, state))
        answers[c.name] = c.ranks(out, n)
        wanted[c.name] = repeats_for(wall, repeats)
        inner[c.name] = max(1, min(1000, math.ceil(SAMPLE_S / max(wall, 1e-7))))
        if wall > 1.0:
            samples[c.name].append(wall)
            cpu[c.name].append(used)

    def block(run: Callable[[Any], Any], state: Any, k: int) -> None:
        for _ in range(k):
            run(state)

    for _ in range(repeats):
        for c, state in active:
            if len(samples[c.name]) >= wanted[c.name]:
                continue
            k = inner[c.name]
            wall, used, _ = timed(functools.partial(block, c.run, state, k))
            samples[c.name].append(wall / k)
            cpu[c.name].append(used / k)

    ref = answers.get(REFERENCE)
    rows: list[dict[str, Any]] = []
    for c, _ in active:
        t = samples[c.name]
        got = answers[c.name]
        if ref is None:
            agree = "no reference"
        elif np.array_equal(got, ref):
            agree = "yes"
        else:
            agree = f"NO: {int(np.count_nonzero(got != ref))} of {n} ranks differ"
        rows.append(
            {
                "library": c.name,
                "n": n,
                "m": m,
                "seconds": t,
                "cpu_seconds": cpu[c.name],
                "ms": median(t) * 1e3,
                "ms_min": min(t) * 1e3,
                "ms_max": max(t) * 1e3,
                "spread": spread(t),
                "cpu_over_wall": sum(cpu[c.name]) / sum(t),
                "calls_per_sample": inner[c.name],
                "fronts": int(got.max()) + 1,
                "agree_with_chimera_cpp": agree,
                "note": c.note,
            }
        )
        last[(c.name, m)] = (n, median(t))
    ref_ms = next((r["ms"] for r in rows if r["library"] == REFERENCE), float("nan"))
    for r in rows:
        r["ratio_to_chimera_cpp"] = r["ms"] / ref_ms
    return rows, skipped


def per_call(fn: Callable[[], Any], repeats: int) -> float:
    """Median seconds per call of ``fn``, each sample about SAMPLE_S of back-to-back calls."""
    wall = timed(fn)[0]
    k = max(1, min(10000, math.ceil(SAMPLE_S / max(wall, 1e-7))))

    def block() -> None:
        for _ in range(k):
            fn()

    return median([timed(block)[0] / k for _ in range(repeats)])


def floor_rows(sizes: list[int], seed: int, repeats: int, chimera2: dict[int, float]) -> list:
    """np.sort / np.argsort of one column at each N, against chimera cpp at M = 2."""
    from chimera import _backend

    _, kern = _backend.resolve("cpp", "moo")
    out = []
    for n in sizes:
        F = points(n, 2, seed)
        col = F[:, 0].copy()
        rank = np.empty(n, dtype=np.int32)
        res = {
            name: per_call(fn, max(repeats, 5)) * 1e3
            for name, fn in (
                ("np.sort", lambda col=col: np.sort(col)),
                ("np.argsort", lambda col=col: np.argsort(col)),
                ("np.lexsort 2 cols", lambda F=F: np.lexsort((F[:, 1], F[:, 0]))),
                ("chimera kernel", lambda F=F, rank=rank: kern.pareto_rank(F, rank)),
            )
        }
        c = chimera2.get(n, float("nan"))
        comparisons = n * math.log2(n)
        out.append(
            {
                "n": n,
                "np_sort_ms": res["np.sort"],
                "np_argsort_ms": res["np.argsort"],
                "np_lexsort_ms": res["np.lexsort 2 cols"],
                "chimera_kernel_ms": res["chimera kernel"],
                "chimera_cpp_ms": c,
                "chimera_over_np_sort": c / res["np.sort"],
                "chimera_over_np_argsort": c / res["np.argsort"],
                "n_log2_n": comparisons,
                "chimera_ns_per_n_log2_n": c * 1e6 / comparisons,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--objs", default=",".join(map(str, OBJS)))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-call", type=float, default=20.0, help="skip calls projected longer")
    ap.add_argument("--libs", default=None, help="comma-separated subset of the library names")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="N <= 5000, 2 repeats: a smoke test")
    ap.add_argument("--json", default=None, help="write the results here (default: results/)")
    ap.add_argument("--no-save", action="store_true", help="do not write a JSON file")
    args = ap.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    objs = [int(s) for s in args.objs.split(",") if s.strip()]
    repeats = args.repeats
    max_call = args.max_call
    if args.quick:
        sizes = [s for s in sizes if s <= 5000] or [1000]
        repeats, max_call = min(repeats, 2), min(max_call, 2.0)

    todo, unavailable = [], {}
    for c in contenders():
        if args.libs and c.name not in {s.strip() for s in args.libs.split(",")}:
            continue
        if not available(c.module):
            unavailable[c.name] = f"{c.module} is not installed"
            print(f"skipping {c.name}: {unavailable[c.name]}")
            continue
        todo.append(c)

    if any(c.name == "chimera numba" for c in todo):  # compile outside the timings
        from chimera.evolution import pareto_rank

        for m in objs:
            pareto_rank(points(64, m, 1), backend="numba")

    load_start = loadavg()
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    last: dict[tuple[str, int], tuple[int, float]] = {}
    for m in objs:
        for n in sizes:
            print(f"M={m} N={n:>6} ...", end=" ", flush=True)
            try:
                got, skips = measure_config(
                    todo, n, m, seed=args.seed, repeats=repeats, max_call=max_call, last=last
                )
            except Exception as exc:  # keep the other configurations
                failures[f"M={m} N={n}"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                continue
            rows.extend(got)
            skipped.extend({"library": k, "n": n, "m": m, "why": v} for k, v in skips.items())
            print(", ".join(f"{r['library']} {r['ms']:.3g} ms" for r in got))

    table = [
        [
            r["library"], r["m"], r["n"], r["ms"], r["ms_min"], r["ms_max"],
            r["ratio_to_chimera_cpp"], r["cpu_over_wall"], len(r["seconds"]), r["fronts"],
            r["agree_with_chimera_cpp"],
        ]
        for r in sorted(rows, key=lambda r: (r["m"], r["n"], r["ms"]))
    ]  # fmt: skip
    print_table(
        f"Non-dominated sorting of N uniform random points in [0,1)^M: median ms of {repeats} "
        "calls (fewer above 2 s); ratio = library / chimera cpp",
        ["library", "M", "N", "ms", "min", "max", "x chimera cpp", "cpu/wall", "calls",
         "fronts", "ranks equal chimera's"],
        table,
    )  # fmt: skip
    for s in skipped:
        print(f"skipped {s['library']} at M={s['m']} N={s['n']}: {s['why']}")

    chimera2 = {r["n"]: r["ms"] for r in rows if r["library"] == REFERENCE and r["m"] == 2}
    floor = floor_rows(sizes, args.seed, repeats, chimera2) if 2 in objs else []
    if floor:
        print_table(
            "Floor, M = 2: sorting one column of the same N (ms) against chimera cpp",
            ["N", "np.sort", "np.argsort", "np.lexsort 2 cols", "chimera kernel",
             "chimera pareto_rank", "x np.sort", "x np.argsort", "ns per N log2 N"],
            [
                [f["n"], f["np_sort_ms"], f["np_argsort_ms"], f["np_lexsort_ms"],
                 f["chimera_kernel_ms"], f["chimera_cpp_ms"], f["chimera_over_np_sort"],
                 f["chimera_over_np_argsort"], f["chimera_ns_per_n_log2_n"]]
                for f in floor
            ],
        )  # fmt: skip

    disagree = [r for r in rows if r["agree_with_chimera_cpp"] != "yes"]
    for r in disagree:
        print(f"DISAGREE {r['library']} M={r['m']} N={r['n']}: {r['agree_with_chimera_cpp']}")
    if not disagree:
        print("answers agree: every library's ranks equal chimera cpp's exactly")
    for name, why in failures.items():
        print(f"FAILED {name}: {why}")

    if not args.no_save:
        path = save(
            "pareto",
            {
                "settings": {
                    "sizes": sizes, "objs": objs, "repeats": repeats, "max_call_s": max_call,
                    "seed": args.seed, "quick": args.quick, "points": "uniform [0,1)^M, "
                    "np.random.default_rng([seed, N, M]).random((N, M))",
                    "loadavg_at_start": load_start, "loadavg_at_end": loadavg(),
                },
                "results": rows,
                "floor_m2": floor,
                "skipped": skipped,
                "unavailable": unavailable,
                "disagreements": [
                    f"{r['library']} M={r['m']} N={r['n']}: {r['agree_with_chimera_cpp']}"
                    for r in disagree
                ],
                "failures": failures,
            },
            args.json,
        )  # fmt: skip
        print(f"wrote {path}")
    return 1 if failures or disagree else 0


if __name__ == "__main__":
    sys.exit(main())

"""CMA-ES with BIPOP restarts on the BBOB suite: chimera's ``CMAES`` against pycma's
``cma.fmin2(..., restarts=9, bipop=True)``, through COCO's ``cocoex`` (offline), in one process.

Each (function, instance) of ``bbob`` in ``--dim`` dimensions is solved once by each
optimizer with the same budget (``--budget-multiplier`` x dim evaluations) and the same target,
COCO's final one, reached at f - fopt <= 1e-8 (fopt from ``cocoex.BareProblem``). The two run
one after the other on a fresh copy of the same problem, so a busy machine slows both alike.

- chimera: ``CMAES(bounds, seed=s)`` with its defaults (BIPOP, 9 large restarts, sigma0 = 2,
  each run starting uniformly in [-4, 4]^n, the box [-5, 5]^n kept by a smooth transform),
  asked and told until the target is hit, the budget is spent, or ``stop_reason`` is set.
- pycma: ``cma.fmin2(f, x0, 2, {'maxfevals': budget, 'ftarget': fopt + 1e-8, 'seed': s,
  'verbose': -9}, restarts=9, bipop=True)``, ``x0`` a callable drawing uniformly in [-4, 4]^n,
  which pycma calls again for every restart (BBOB practice); no bounds, as pycma is usually
  run on BBOB (``--pycma-bounds`` gives it the box and its own transform, as chimera has).

Both run on one thread (BLAS, OpenMP and chimera's pool), so wall times compare the
optimizers' own overhead; the evaluations are the same Python calls into COCO for both.

Per run: evaluations until the target was first hit (counted by a wrapper around the problem,
the same for both, and checked against COCO's own ``final_target_hit``), the best error
f - fopt, wall and CPU seconds. Per function: the expected running time, ERT = the evaluations
of all its instances' runs (to the hit, or all of them when there was none) divided by the
number of runs that hit (inf when none did), and the ratio chimera / pycma (below 1: chimera
is faster). The aggregate is the geometric mean of the ratios where both ERTs are finite.
Raw per-run numbers (with the evaluations at which each of COCO's 51 targets 1e2..1e-8 was
first reached, f - fopt <= target as COCO tests it), with each chimera run's restarts (``es.runs``) and pycma's stopping reasons,
go to ``results/<date>_<time>_strategies_bbob.json``. After the table: the runtime ECDF of
single runs at the target (the fraction of all runs that reached it within b evaluations) for
both, and COCO's aggregated ECDF over the 51 targets (the fraction of (run, target) pairs),
functions weighted equally, each budget's difference with a 95% bootstrap interval. ``--combine FILE ...`` prints the same report over the runs of earlier
result files (runs split over processes by function or instance).

Usage::

    python benchmarks/bench_strategies_bbob.py [--dim 10] [--instances 1-5]
        [--functions 1-24] [--budget-multiplier 1e5] [--seed 1] [--pycma-bounds]
    python benchmarks/bench_strategies_bbob.py --combine results/A.json results/B.json
    python benchmarks/bench_strategies_bbob.py --optimizers chimera  # then, with pycma's runs:
    python benchmarks/bench_strategies_bbob.py --combine results/NEW.json results/OLD.json:pycma
"""

from __future__ import annotations

import os

# One thread for BLAS and chimera's kernels, as both run one at a time on a shared machine
# (before NumPy is imported; an explicit setting in the environment wins).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CHIMERA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table, write_results  # noqa: E402

PRECISION = 1e-8  # COCO's final target: f - fopt below this
#: COCO's 51 targets of its aggregated runtime ECDFs: f - fopt below 10^2, 10^1.8, ..., 10^-8.
TARGETS = [10.0 ** ((10 - k) / 5) for k in range(51)]
NAMES = (
    "sphere", "ellipsoid sep", "rastrigin sep", "bueche-rastrigin", "linear slope",
    "attractive sector", "step ellipsoid", "rosenbrock", "rosenbrock rot", "ellipsoid",
    "discus", "bent cigar", "sharp ridge", "different powers", "rastrigin",
    "weierstrass", "schaffer f7", "schaffer f7 ill", "griewank-rosenbrock", "schwefel",
    "gallagher 101", "gallagher 21", "katsuura", "lunacek bi-rastrigin",
)  # fmt: skip


def indices(spec: str) -> list[int]:
    """``"1-5"``, ``"1,3,7-9"`` -> the integers they name."""
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


class Tracked:
    """A COCO problem that counts its evaluations and remembers when the target, and each of
    TARGETS, was first hit (counted here rather than by either optimizer, so both are measured
    the same way)."""

    def __init__(self, problem: Any, fopt: float) -> None:
        self.problem, self.fopt = problem, fopt
        self.evals = 0
        self.hit_at: int | None = None
        self.target_hits: list[int] = []  # evaluations to TARGETS[0], TARGETS[1], ... so far
        self.best_error = math.inf

    def __call__(self, x: np.ndarray) -> float:
        f = float(self.problem(x))
        self.evals += 1
        err = f - self.fopt
        self.best_error = min(self.best_error, err)
        if self.hit_at is None and err <= PRECISION:  # COCO's test (final_target_hit): <=
            self.hit_at = self.evals
        while len(self.target_hits) < len(TARGETS) and err <= TARGETS[len(self.target_hits)]:
            self.target_hits.append(self.evals)
        return f


def run_chimera(fun: Tracked, budget: int, seed: int) -> dict[str, Any]:
    from chimera.strategies import CMAES

    p = fun.problem
    es = CMAES(np.column_stack([p.lower_bounds, p.upper_bounds]), seed=seed)
    best, ended, errors = math.inf, 0, []  # each run's best error, to see where runs end up
    while fun.evals < budget and fun.hit_at is None and es.stop_reason is None:
        X = es.ask()
        F = np.array([fun(x) for x in X])
        es.tell(F)
        best = min(best, float(F.min()))
        if len(es.runs) > ended:  # this generation ended a run (and maybe started the next)
            errors.append(best - fun.fopt)
            best, ended = math.inf, len(es.runs)
    runs = [dict(r) for r in es.runs]
    if es.stop_reason is None:  # the run that hit the target or spent the budget
        runs.append({"pop_size": es.pop_size, "stop": None})
        errors.append(best - fun.fopt)
    for run, err in zip(runs, errors, strict=True):
        run["best_error"] = err
    return {"runs": runs, "stop": es.stop_reason}


def run_pycma(fun: Tracked, budget: int, seed: int, bounded: bool) -> dict[str, Any]:
    import cma

    p = fun.problem
    lo, hi = np.asarray(p.lower_bounds), np.asarray(p.upper_bounds)
    rng = np.random.default_rng(seed)  # pycma reseeds np.random itself; the starts draw apart

    def x0() -> np.ndarray:  # called for each restart: every run starts somewhere new
        return lo + (hi - lo) * rng.uniform(0.1, 0.9, lo.size)

    options: dict[str, Any] = {"maxfevals": budget, "ftarget": fun.fopt + PRECISION,
                               "seed": seed, "verbose": -9}  # fmt: skip
    if bounded:
        options["bounds"] = [lo.tolist(), hi.tolist()]
    _, es = cma.fmin2(fun, x0, 0.2 * float(np.mean(hi - lo)), options, restarts=9, bipop=True)
    # pycma's all_stoppings and all_best lead with the whole call (all_best[0]: the best
    # overall); each later entry is one run's stopping reasons and its best solution
    runs = [{"stop": sorted(s), "best_error": b.f - fun.fopt}
            for s, b in zip(es.all_stoppings[1:], es.all_best[1:], strict=True)]  # fmt: skip
    return {"runs": runs, "stop": sorted(es.stop())}


def solve(name: str, suite: Any, fid: int, dim: int, inst: int, budget: int, seed: int,
          pycma_bounds: bool) -> dict[str, Any]:  # fmt: skip
    """One optimizer on a fresh copy of one problem."""
    import cocoex

    problem = suite.get_problem_by_function_dimension_instance(fid, dim, inst)
    fun = Tracked(problem, cocoex.BareProblem("bbob", fid, dim, inst).best_value())
    wall, cpu = time.perf_counter(), time.process_time()
    extra = (run_chimera(fun, budget, seed) if name == "chimera"
             else run_pycma(fun, budget, seed, pycma_bounds))  # fmt: skip
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # the two counts of the same thing must agree: COCO's and ours
    assert (fun.hit_at is not None) == bool(problem.final_target_hit), (name, problem.id)
    assert fun.evals == problem.evaluations, (name, problem.id)
    problem.free()
    return {"function": fid, "instance": inst, "budget": budget, "evals": fun.evals,
            "hit_at": fun.hit_at, "target_hits": fun.target_hits, "best_error": fun.best_error,
            "wall_s": wall, "cpu_s": cpu, **extra}  # fmt: skip


def ert(runs: list[dict[str, Any]]) -> tuple[float, int]:
    """Expected running time over ``runs`` and the number of them that hit the target."""
    hits = sum(r["hit_at"] is not None for r in runs)
    spent = sum(r["hit_at"] if r["hit_at"] is not None else r["evals"] for r in runs)
    return (spent / hits if hits else math.inf), hits


def report(records: list[dict[str, Any]], title: str) -> float:
    """The ERT table per function, the aggregate, and the runtime ECDF of the runs; returns
    the geometric mean ERT ratio over the functions both solved."""
    rows: list[list[Any]] = []
    ratios: list[float] = []
    within = 0
    for fid in sorted({r["function"] for r in records}):
        by_opt = {k: [r for r in records if r["function"] == fid and r["optimizer"] == k]
                  for k in ("chimera", "pycma")}  # fmt: skip
        (ert_c, hit_c), (ert_p, hit_p) = ert(by_opt["chimera"]), ert(by_opt["pycma"])
        ratio = ert_c / ert_p if math.isfinite(ert_c) and math.isfinite(ert_p) else math.nan
        if math.isfinite(ratio):
            ratios.append(ratio)
        # within 1.1x: by the ratio, or pycma did not solve it (neither did, or chimera alone)
        within += bool(ratio <= 1.1) if math.isfinite(ratio) else not math.isfinite(ert_p)
        rows.append([f"f{fid} {NAMES[fid - 1]}", ert_c, ert_p, ratio,
                     f"{hit_c}/{len(by_opt['chimera'])}", f"{hit_p}/{len(by_opt['pycma'])}",
                     median([r["best_error"] for r in by_opt["chimera"]]),
                     median([r["best_error"] for r in by_opt["pycma"]]),
                     sum(r["wall_s"] for r in by_opt["chimera"]),
                     sum(r["wall_s"] for r in by_opt["pycma"])])  # fmt: skip
    print_table(
        f"{title}: ERT to f - fopt <= {PRECISION:g} (evaluations; ratio below 1: chimera faster)",
        ["function", "ERT chimera", "ERT pycma", "ratio", "hits chimera", "hits pycma",
         "median error chimera", "median error pycma", "wall s chimera", "wall s pycma"],
        rows,
    )  # fmt: skip
    hits = {k: sum(r["hit_at"] is not None for r in records if r["optimizer"] == k)
            for k in ("chimera", "pycma")}  # fmt: skip
    total = sum(r["optimizer"] == "chimera" for r in records)
    geo = math.exp(float(np.mean(np.log(ratios)))) if ratios else math.nan
    print(f"aggregate: hits chimera {hits['chimera']}/{total}, pycma {hits['pycma']}/{total}; "
          f"geometric mean ERT ratio {geo:.3g} over the {len(ratios)} functions both solved; "
          f"within 1.1x (or unsolved by both, or solved by chimera alone): {within} of "
          f"{len(rows)}; worse than 2x: {sum(q > 2 for q in ratios)}")  # fmt: skip
    ecdf(records)
    return geo


#: Bootstrap replicates for the ECDFs' intervals (the runs of each function resampled).
BOOTSTRAP = 2000


def ecdf(records: list[dict[str, Any]]) -> None:
    """Runtime ECDFs, b from 10 to the budget in quarter decades, for each optimizer: per
    function the mean over its runs, averaged over the functions (each weighs the same,
    whatever its number of runs); an evaluation past a run's budget (pycma ends its last
    population beyond it) never counts. First of single runs at the one target (reached
    f - fopt <= PRECISION within b evaluations), then COCO's aggregate over its 51 targets
    (the fraction of them reached within b), where every record holds its target hits (files
    from 2026-12-08 on). Beside each: chimera's minus pycma's with a 95% bootstrap interval
    (each function's runs resampled, BOOTSTRAP times), and the budgets where chimera's is
    below pycma's, and significantly so (the whole interval below zero)."""
    top = max((r["budget"] for r in records), default=1)
    grid = np.array([10 ** (k / 4) for k in range(4, int(4 * math.log10(top)) + 1)
                     if 10 ** (k / 4) < top] + [top])  # fmt: skip

    def at_target(r: dict[str, Any]) -> np.ndarray:  # (grid,) 0 or 1
        hit = r["hit_at"] if r["hit_at"] is not None else math.inf
        return (hit <= np.minimum(grid, r["budget"])).astype(float)

    def over_targets(r: dict[str, Any]) -> np.ndarray:  # (grid,) fraction of the targets
        hits = np.asarray(r["target_hits"], dtype=float)[:, None]
        return (hits <= np.minimum(grid, r["budget"])).sum(axis=0) / len(TARGETS)

    measures = [("runtime ECDF at the target (fraction of runs within b evaluations)", at_target)]
    if records and all("target_hits" in r for r in records):
        measures.append(("COCO's aggregated runtime ECDF over its 51 targets 1e2..1e-8 "
                         "(fraction of (run, target) pairs within b evaluations)",
                         over_targets))  # fmt: skip
    functions = sorted({r["function"] for r in records})
    rng = np.random.default_rng(0)
    for title, measure in measures:
        value, boot = {}, {}
        for k in ("chimera", "pycma"):
            per_function = [np.array([measure(r) for r in records
                                      if r["optimizer"] == k and r["function"] == f])
                            for f in functions]  # fmt: skip
            value[k] = np.mean([v.mean(axis=0) for v in per_function], axis=0)
            boot[k] = np.mean([v[rng.integers(0, len(v), (BOOTSTRAP, len(v)))].mean(axis=1)
                               for v in per_function], axis=0)  # fmt: skip
        diff = boot["chimera"] - boot["pycma"]
        lo, hi = np.percentile(diff, [2.5, 97.5], axis=0)
        print(f"{title}:")
        print(f"{'b':>12} {'chimera':>8} {'pycma':>8} {'difference [95% interval]':>28}")
        for j, b in enumerate(grid):
            d = value["chimera"][j] - value["pycma"][j]
            print(f"{b:>12.0f} {value['chimera'][j]:8.3f} {value['pycma'][j]:8.3f} "
                  f"{d:+9.3f} [{lo[j]:+.3f}, {hi[j]:+.3f}]")  # fmt: skip
        below = [f"{b:.0f}" for j, b in enumerate(grid) if value["chimera"][j] < value["pycma"][j]]
        sig = [f"{b:.0f}" for j, b in enumerate(grid) if hi[j] < 0]
        print(f"chimera's ECDF is below pycma's at b = {', '.join(below) or 'none'}; "
              f"significantly at b = {', '.join(sig) or 'none'}")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--instances", default="1-5")
    ap.add_argument("--functions", default="1-24")
    ap.add_argument("--budget-multiplier", type=float, default=1e5,
                    help="evaluations per run = this x dim")  # fmt: skip
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pycma-bounds", action="store_true",
                    help="give pycma the box [-5, 5]^n as well (chimera always has it)")  # fmt: skip
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--optimizers", default="chimera,pycma",
                    help="run only these (the other's runs from an earlier file: --combine)")  # fmt: skip
    ap.add_argument("--combine", nargs="+", metavar="JSON[:OPTIMIZER]",
                    help="report on the runs of these result files instead of running; "
                         "FILE:chimera or FILE:pycma takes one optimizer's runs of a file")  # fmt: skip
    opts = ap.parse_args()
    if opts.combine:
        import json

        records = []
        for item in opts.combine:
            path, _, only = item.partition(":")
            data = json.loads(Path(path).read_text())
            # the file's budget for records written before each held its own
            records += [{"budget": data["budget"], **r} for r in data["records"]
                        if only in ("", r["optimizer"])]  # fmt: skip
        report(records, f"BBOB, the runs of {len(opts.combine)} result files")
        return 0
    import cocoex

    functions, instances = indices(opts.functions), indices(opts.instances)
    budget = int(opts.budget_multiplier * opts.dim)
    suite = cocoex.Suite("bbob", f"instances: {opts.instances}",
                         f"dimensions: {opts.dim} function_indices: {opts.functions}")  # fmt: skip
    print(f"bbob, dim {opts.dim}, functions {opts.functions}, instances {opts.instances}, "
          f"budget {budget} evaluations a run, target f - fopt <= {PRECISION:g}")  # fmt: skip
    records: list[dict[str, Any]] = []
    for fid in functions:
        by_opt: dict[str, list[dict[str, Any]]] = {k: [] for k in opts.optimizers.split(",")}
        for inst in instances:
            # one seed per (function, instance), shared by both, positive as pycma wants
            seed = opts.seed * 10_000 + 100 * fid + inst
            for name, runs in by_opt.items():
                r = solve(name, suite, fid, opts.dim, inst, budget, seed, opts.pycma_bounds)
                runs.append(r)
                records.append({"optimizer": name, **r})
                print(f"  f{fid:<2} i{inst:<2} {name:<7} evals {r['evals']:>8} "
                      f"hit {r['hit_at'] or '-':>8}  error {r['best_error']:.2e}  "
                      f"{r['wall_s']:.1f} s  runs {len(r['runs'])}", flush=True)  # fmt: skip
    geo = None
    if set(by_opt) == {"chimera", "pycma"}:
        geo = report(records, f"BBOB {opts.dim}-D, instances {opts.instances}, budget {budget}")
    else:  # one side only: its report waits for the other's runs (--combine)
        print("one optimizer run: report with --combine and an earlier file's other runs")
    for name in opts.optimizers.split(","):
        own = [r for r in records if r["optimizer"] == name]
        print(f"{name}: {sum(r['wall_s'] for r in own):.1f} s wall, "
              f"{sum(r['cpu_s'] for r in own):.1f} s CPU, {sum(r['evals'] for r in own)} "
              f"evaluations")  # fmt: skip
    if not opts.no_save:
        libs = {k: metadata.version(k) for k in ("cma", "coco-experiment")}
        payload = {"settings": vars(opts), "budget": budget, "libraries": libs,
                   "geometric_mean_ratio": geo, "records": records}  # fmt: skip
        print(f"wrote {write_results('strategies_bbob', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

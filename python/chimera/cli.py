"""The ``chimera`` command: ``run`` an experiment spec (or resume a killed run), ``plan`` and
``validate`` one without running it, ``discover`` what the machine offers, ``report`` on a run
folder, list ``algorithms`` and ``backends``.

Exit codes: 0 done; 2 bad input (a spec, a plan that fails validation, a folder that is not a
run); 3 the run failed (an error raised while it ran: what was committed is kept, resume it
with ``chimera run --resume``); 130 interrupted (Ctrl-C; resume it the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__, _backend
from ._errors import ChimeraError, ValidationError

EXIT_OK, EXIT_INPUT, EXIT_RUN, EXIT_INTERRUPTED = 0, 2, 3, 130


def _console(quiet: bool) -> Any:
    from rich.console import Console

    return Console(stderr=True, quiet=quiet, soft_wrap=True)


def _run(args: argparse.Namespace) -> int:
    from . import pipeline, planning, report

    console = _console(args.quiet or args.json)
    # A progress bar is for a person watching: not in a log file, a pipe or a batch job.
    progress = not (args.quiet or args.json) and sys.stderr.isatty()
    if args.resume:
        args.run_dir = Path(args.resume)
        outcome = pipeline.resume(Path(args.resume), args.spec, backend=args.backend,
                                  progress=progress)  # fmt: skip
    else:
        if args.spec is None:
            raise ValidationError("give a spec to run, or --resume RUN_DIR to continue a run")
        s = planning.load(args.spec)
        out = (
            Path(args.out)
            if args.out
            else s.output_dir / f"{s.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        console.print(f"[bold]{s.name}[/]: planning and validating")
        validated = pipeline.prepare(args.spec, out, backend=args.backend)
        args.run_dir = out  # from here on, an interrupted run can be resumed
        console.print(validated.plan.summary(), markup=False)
        console.print(f"run folder  {out}", markup=False)
        outcome = pipeline.execute(out, validated, progress=progress)
    for problem in outcome.skipped:
        console.print(f"[yellow]skipped a damaged checkpoint[/]: {problem}")
    if outcome.already_complete:
        console.print(f"{outcome.run_dir} is already complete")
    elif outcome.resumed_from is not None:
        console.print(f"resumed after generation {outcome.resumed_from}")
    if args.json:
        print(json.dumps({"run_dir": str(outcome.run_dir), **outcome.summary}, indent=2))
        return EXIT_OK
    console.print(report.headline(outcome.summary), markup=False)
    print(outcome.run_dir)
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from . import planning

    plan = planning.make_plan(planning.load(args.spec), probe_objective=not args.no_probe)
    print(json.dumps(plan.to_dict(), indent=2) if args.json else plan.summary())
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from . import validation

    try:
        checked = validation.validate(args.spec, probe=False)
    except ValidationError as exc:
        if not args.json:
            raise
        if isinstance(exc, validation.PlanInvalid):
            found = [vars(v) for v in exc.violations]
        else:  # the spec itself: each problem names its key
            problems = getattr(exc, "problems", [str(exc)])
            found = [{"where": "spec", "problem": p, "fix": "see docs/spec.md"} for p in problems]
        print(json.dumps({"valid": False, "violations": found}, indent=2))
        return EXIT_INPUT
    plan = checked.plan
    if args.json:
        print(json.dumps({"valid": True, "violations": []}))
    else:
        print(f"{args.spec}: valid: {plan.algorithm} on {plan.objective.problem.name}, "
              f"{plan.generations} generations, {plan.evals:,} evaluations")  # fmt: skip
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from . import report

    text, written = report.write(Path(args.run_dir), Path(args.out) if args.out else None)
    print(text)
    for path in written:
        print(f"wrote {path}")
    return 0


def _algorithms(args: argparse.Namespace) -> int:
    from . import algorithms

    if args.markdown:
        print(algorithms.markdown(), end="")
        return EXIT_OK
    for a in algorithms.ALGORITHMS.values():
        objectives = "2+ objectives" if a.multi_objective else "1 objective"
        print(f"{a.name:8} {a.summary} ({objectives}"
              f"{', constraints' if a.constraints else ''})")  # fmt: skip
        for o in a.options.values():
            print(f"    {o.name} = {o.default!r}")
    return EXIT_OK


def _backends(args: argparse.Namespace) -> int:
    statuses = _backend.backends()
    if args.json:
        print(
            json.dumps(
                {k: {"available": v.available, "reason": v.reason} for k, v in statuses.items()}
            )
        )
    else:
        for name, st in statuses.items():
            print(
                f"{name:6} {'yes' if st.available else 'no ':3}  {'' if st.available else st.reason}"
            )
    return 0


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 2**30:.1f} GiB"


def _discover(args: argparse.Namespace) -> int:
    from . import discovery, problems

    snap = discovery.discover()
    model = None
    if args.probe:  # the built-in sphere stands in for an objective: it times the machine
        model = discovery.probe(problems.sphere, [[-5.0, 5.0]] * _PROBE_DIM)
    if args.json:
        data = snap.to_dict()
        if model is not None:
            data["probe"] = model.to_dict()
        print(json.dumps(data, indent=2))
        return 0
    cores = f"{snap.cores_logical} logical, {snap.cores_physical or '?'} physical"
    rows = [
        ("cpu", f"{snap.cpu_model} ({snap.machine}, {snap.system}), {cores}"),
        ("simd", " ".join(snap.simd) or "none found"),
        ("memory", f"{_size(snap.memory_available)} free of {_size(snap.memory_total)}"),
    ]
    for g in snap.gpus:
        busy = "?" if g.utilization is None else f"{g.utilization:.0f}%"
        memory = f"{_size(g.memory_free)} free of {_size(g.memory_total)}"
        rows.append((f"gpu {g.index}", f"{g.name}, sm {g.compute_capability or '?'}, {memory}, "
                     f"{busy} busy"))  # fmt: skip
    if not snap.gpus:
        rows.append(("gpu", f"none: {snap.gpu_note}"))
    rows.append(("cuda", "usable" if snap.cuda_usable else f"not usable: {snap.cuda_note}"))
    rows.append(("backends", ", ".join(snap.available_backends) or "none"))
    versions = {"python": snap.python, "numpy": snap.numpy, "chimera": snap.chimera,
                "wasmtime": snap.wasmtime, "cupy": snap.cupy}  # fmt: skip
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)))
    rows.extend(("note", note) for note in snap.notes)
    if model is not None:
        for k in model.workers:
            rows.append((f"{k} worker(s)", f"{model.evaluations_per_second(k):,.0f} "
                         f"sphere evaluations/s (dim {_PROBE_DIM})"))  # fmt: skip
        for b in model.backends:
            rows.append((f"{b} breed", f"{model.breeding[b](100) * 1e3:.3f} ms per generation "
                         "of 100"))  # fmt: skip
        rows.append(("probe took", f"{model.seconds * 1e3:.0f} ms"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:{width}}  {value}")
    return 0


_PROBE_DIM = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chimera", description="Evolve, tune and safely run agents.",
        epilog="exit codes: 0 done, 2 bad input, 3 the run failed (resume it), 130 interrupted",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    spec_help = "path to the experiment spec, e.g. examples/quickstart.toml (docs/spec.md)"
    run = sub.add_parser("run", help="run an experiment spec (TOML), or resume a killed run")
    run.add_argument("spec", nargs="?", help=spec_help)
    run.add_argument("--out", help="run folder (default: <output.dir>/<name>-<time>)")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    run.add_argument("--backend", choices=["auto", *_backend.NAMES], help="kernel backend")
    run.add_argument("-q", "--quiet", action="store_true", help="nothing on stderr")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(func=_run)
    pl = sub.add_parser("plan", help="show the plan of a spec and its predicted time")
    pl.add_argument("spec", help=spec_help)
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.add_argument("--no-probe", action="store_true", help="skip timing the objective")
    pl.set_defaults(func=_plan)
    va = sub.add_parser("validate", help="check a spec and its plan; list every violation")
    va.add_argument("spec", help=spec_help)
    va.add_argument("--json", action="store_true", help="machine-readable output")
    va.set_defaults(func=_validate)
    rep = sub.add_parser("report", help="summarise a run folder: report.html and PNG plots")
    rep.add_argument("run_dir", help="a folder written by `chimera run`")
    rep.add_argument("--out", help="folder for the report (default: the run folder)")
    rep.set_defaults(func=_report)
    al = sub.add_parser("algorithms", help="the algorithms a spec or minimize may name")
    al.add_argument("--markdown", action="store_true", help="as the tables of docs/spec.md")
    al.set_defaults(func=_algorithms)
    be = sub.add_parser("backends", help="which kernel backends work here, and why not")
    be.add_argument("--json", action="store_true")
    be.set_defaults(func=_backends)
    di = sub.add_parser("discover", help="what this machine offers: CPU, memory, GPUs, backends")
    di.add_argument("--json", action="store_true", help="machine-readable output")
    di.add_argument(
        "--probe",
        action="store_true",
        help="also time evaluations and breeding here (about 0.1 s; more at numba's first use)",
    )
    di.set_defaults(func=_discover)
    parser.add_argument("--version", action="version", version=f"chimera {__version__}")
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        print(f"chimera: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except ChimeraError as exc:
        print(f"chimera: the run failed: {exc}", file=sys.stderr)
        return EXIT_RUN
    except KeyboardInterrupt:
        run_dir = getattr(args, "run_dir", None)
        where = "" if run_dir is None else (
            f"; what was committed is kept in {run_dir}: continue with "
            f"`chimera run --resume {run_dir}`")  # fmt: skip
        print(f"chimera: interrupted{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader left (`--json | head`): the rest is not wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush does not fail again
        return EXIT_OK
    except OSError as exc:  # a path that is not there, not a folder, not ours to write
        print(f"chimera: error: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

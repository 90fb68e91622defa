"""The ``chimera`` command: ``run`` (or resume) an experiment spec, ``report`` on a run folder,
list ``backends``, ``discover`` what the machine offers."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import _backend, report, runs, spec
from ._errors import ChimeraError


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, quiet=args.quiet, soft_wrap=True)
    progress = not args.quiet
    if args.resume:
        outcome = runs.resume(Path(args.resume), args.spec, backend=args.backend, progress=progress)
    else:
        if args.spec is None:
            raise ChimeraError("give a spec to run, or --resume RUN_DIR to continue a run")
        s = spec.load(args.spec)
        out = (
            Path(args.out)
            if args.out
            else s.output_dir / f"{s.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        console.print(f"[bold]{s.name}[/]: {s.problem['name']}, budget {s.max_evals} evaluations")
        outcome = runs.start(args.spec, out, backend=args.backend, progress=progress)
    for problem in outcome.skipped:
        console.print(f"[yellow]skipped a damaged checkpoint[/]: {problem}")
    if outcome.already_complete:
        console.print(f"{outcome.run_dir} is already complete")
    elif outcome.resumed_from is not None:
        console.print(f"resumed after generation {outcome.resumed_from}")
    console.print(report.headline(outcome.summary))
    print(outcome.run_dir)
    return 0


def _report(args: argparse.Namespace) -> int:
    text, written = report.write(Path(args.run_dir), Path(args.out) if args.out else None)
    print(text)
    for path in written:
        print(f"wrote {path}")
    return 0


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
        prog="chimera", description="Evolve, tune and safely run agents."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment spec (TOML), or resume a killed run")
    run.add_argument(
        "spec", nargs="?", help="path to the experiment spec, e.g. examples/quickstart.toml"
    )
    run.add_argument("--out", help="run folder (default: <output.dir>/<name>-<time>)")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    run.add_argument("--backend", choices=["auto", *_backend.NAMES], help="kernel backend")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    run.set_defaults(func=_run)
    rep = sub.add_parser("report", help="summarise a run folder and plot it (PNG)")
    rep.add_argument("run_dir", help="a folder written by `chimera run`")
    rep.add_argument("--out", help="folder for the plots (default: the run folder)")
    rep.set_defaults(func=_report)
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
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ChimeraError as exc:
        print(f"chimera: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

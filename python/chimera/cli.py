"""The ``chimera`` command: ``run`` (or resume) an experiment spec, ``report`` on a run folder,
list ``backends``."""

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
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ChimeraError as exc:
        print(f"chimera: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``chimera`` command: ``run`` an experiment spec, list ``backends``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from . import _backend, problems, spec
from ._errors import ChimeraError
from .optimize import minimize


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, quiet=args.quiet)
    s = spec.load(args.spec)
    problem_opts = {k: v for k, v in s.problem.items() if k not in ("name", "dim")}
    prob = problems.get(s.problem["name"], s.problem["dim"], **problem_opts)
    options: dict[str, Any] = {"dtype": prob.dtype, "maximize": prob.maximize, **s.algorithm}
    if args.backend:
        options["backend"] = args.backend
    out = (
        Path(args.out) if args.out else s.output_dir / f"{s.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    if out.exists() and any(out.iterdir()):
        raise ChimeraError(f"run folder {out} exists and is not empty; pick another with --out")
    console.print(
        f"[bold]{s.name}[/]: {prob.name} in {prob.dim} dimensions, budget {s.max_evals} evaluations"
    )
    result = minimize(
        prob.fun, prob.bounds, max_evals=s.max_evals, seed=s.seed,
        progress=not args.quiet, **options,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.history, out / "history.parquet")
    shutil.copyfile(args.spec, out / "spec.toml")
    summary = {
        "name": s.name,
        "problem": prob.name,
        "dim": prob.dim,
        "fun": result.fun,
        "optimum": prob.optimum,
        "x": np.asarray(result.x).tolist(),
        "nfev": result.nfev,
        "ngen": result.ngen,
        "seed": s.seed,
        "backend": result.backend,
        "elapsed_s": result.elapsed_s,
        "message": result.message,
    }
    (out / "result.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"best {result.fun:.6g} (optimum {prob.optimum}) after {result.nfev} evaluations, "
        f"{result.ngen} generations, {result.elapsed_s:.2f} s on the {result.backend} backend"
    )
    print(out)
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
    run = sub.add_parser("run", help="run an experiment spec (TOML)")
    run.add_argument("spec", help="path to the experiment spec, e.g. examples/quickstart.toml")
    run.add_argument("--out", help="run folder (default: <output.dir>/<name>-<time>)")
    run.add_argument("--backend", choices=["auto", *_backend.NAMES], help="kernel backend")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    run.set_defaults(func=_run)
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

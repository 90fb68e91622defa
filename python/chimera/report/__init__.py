"""``chimera report RUN_DIR``: a run folder on one screen, PNG plots of it, and report.html.

It reads only what a run commits (:mod:`chimera.pipeline.folder` lists the files): the spec
and the plan, ``history.parquet`` and the genome store (opened read-only) as the run goes,
and what it writes at the end (``operators.parquet``, ``kpis.parquet``, ``deployments.json``,
``result.json``). Those may be missing, so it also reports a run still going or killed.

Plots: ``convergence.png`` always; ``pareto.png`` for two or three objectives (the run's
non-dominated genomes, over the true front of a built-in problem); ``operators.png`` when a
bandit chose the operators; ``deployment.png`` when versions were served.

:mod:`.read` reads the folder, :mod:`.text` makes the summary, :mod:`.plots` draws the
plots and :mod:`.page` writes report.html.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._durable import write_atomic
from .._errors import ValidationError
from .._validate import path as path_
from ..pipeline import folder
from . import page, plots, read, text
from .text import headline

__all__ = ["headline", "write"]

_SHOWN_VERDICTS = 6  # the text stays on one screen; report.html lists every verdict


def write(run_dir: Path, out: Path | None = None) -> tuple[str, list[Path]]:
    """Report on the run in ``run_dir``: returns the summary text and the files written
    (the plots, then report.html) into ``out`` (default ``run_dir``).

    Raises ValidationError when ``run_dir`` is not a run folder or a file in it is damaged.
    """
    run = read.load(path_(run_dir, "run_dir"))
    out = None if out is None else path_(out, "out")
    if out is not None and out.exists() and not out.is_dir():
        raise ValidationError(f"out {out} is a file; give a folder for the report")
    front, stored = read.front(run.path) if run.n_obj > 1 else (np.zeros((0, 0)), 0)
    out = run.path if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    figures = plots.draw(run, front, stored, out)
    html = out / folder.REPORT
    # The page lists every verdict in a table of its own; the text only the latest.
    rows = text.summary(run, front, stored, shown=0)
    write_atomic(html, page.render(run, rows, figures).encode("utf-8"))
    screen = text.screen(text.summary(run, front, stored, shown=_SHOWN_VERDICTS))
    return screen, [path for path, _ in figures] + [html]

"""``chimera report RUN_DIR``: a run folder on one screen, PNG plots of it, and report.html.

It reads only what a run commits (:mod:`chimera.pipeline.folder` lists the files): the spec
and the plan, ``history.parquet`` and the genome store (opened read-only) as the run goes,
and what it writes at the end (``operators.parquet``, ``kpis.parquet``, ``deployments.json``,
``result.json``). Those may be missing, so it also reports a run still going or killed.

Plots: ``convergence.png`` always; ``pareto.png`` for two or three objectives (the run's
non-dominated genomes, over the true front of a built-in problem); ``operators.png`` when a
bandit chose the operators; ``deployment.png`` when versions were served.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import problems
from ._errors import ValidationError
from .evolution.pareto import pareto_rank
from .evolution.store import GenomeStore
from .pipeline import folder
from .planning import Spec, load

_SHOWN_VERDICTS = 6  # the text stays on one screen; report.html lists every verdict
_CREDIT_WINDOW = 5  # generations of an arm's credit in its rolling mean


def headline(summary: dict[str, Any]) -> str:
    """One line on a finished run's result (``result.json`` or ``Outcome.summary``)."""
    tail = (
        f"after {summary['nfev']:,} evaluations, {summary['ngen']} generations, "
        f"{summary['elapsed_s']:.2f} s on the {summary['backend']} backend"
    )
    if "pareto_f" in summary:
        hv = summary.get("hypervolume")
        hv_text = "" if hv is None else f", hypervolume {hv:.6g} (ref {summary['ref_point']})"
        return f"{len(summary['pareto_f'])} Pareto points{hv_text} {tail}"
    optimum = summary.get("optimum")
    known = "" if optimum is None else f" (optimum {optimum})"
    return f"best {summary['fun']:.6g}{known} {tail}"


def write(run_dir: Path, out: Path | None = None) -> tuple[str, list[Path]]:
    """Report on the run in ``run_dir``: returns the summary text and the files written
    (the plots, then report.html) into ``out`` (default ``run_dir``).

    Raises ValidationError when ``run_dir`` is not a run folder or a file in it is damaged.
    """
    run = _read(Path(run_dir))
    front, stored = _front(run.path) if run.n_obj > 1 else (np.zeros((0, 0)), 0)
    out = run.path if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(run, front, stored, out)
    page = out / folder.REPORT
    # The page lists every verdict in a table of its own; the text only the latest.
    page.write_text(_html(run, _rows(run, front, stored, shown=0), plots), encoding="utf-8")
    text = _text(_rows(run, front, stored, shown=_SHOWN_VERDICTS))
    return text, [path for path, _ in plots] + [page]


# reading the folder -------------------------------------------------------------------------


@dataclass
class _Run:
    """What a run folder holds so far: None for a file not written yet or with no rows."""

    path: Path
    spec: Spec
    plan: dict[str, Any]
    result: dict[str, Any] | None
    history: pa.Table | None
    operators: pa.Table | None
    kpis: pa.Table | None
    deployments: dict[str, Any] | None

    @property
    def objective(self) -> dict[str, Any]:
        """kind, name, dim, n_obj: as planned, else as far as the spec tells."""
        o = self.spec.objective
        n_obj = o.n_obj or 1
        if self.history is not None and "f_min" in self.history.column_names:
            n_obj = len(self.history.column("f_min")[0].as_py())  # one entry per objective
        spec = {"kind": o.kind, "name": Path(o.target).stem if o.kind == "wasm" else o.target,
                "dim": o.dim, "n_obj": n_obj}  # fmt: skip
        return spec | dict(self.plan.get("objective") or {})

    @property
    def n_obj(self) -> int:
        return int(self.objective["n_obj"])

    @property
    def arms(self) -> list[dict[str, Any]]:
        """Each operator arm's operators."""
        if self.result and self.result.get("operators"):
            return [dict(a["operators"]) for a in self.result["operators"]]
        return [] if self.spec.bandit is None else [dict(a) for a in self.spec.bandit.arms]

    def last(self) -> dict[str, Any] | None:
        """The newest history row."""
        if self.history is None:
            return None
        return dict(self.history.slice(self.history.num_rows - 1).to_pylist()[0])


def _read(run_dir: Path) -> _Run:
    if not (run_dir / folder.SPEC).is_file():
        raise ValidationError(
            f"{run_dir} is not a Chimera run folder (it has no {folder.SPEC}); give the folder "
            "that `chimera run` wrote into (its --out)"
        )
    plan = _json(run_dir / folder.PLAN) or {}
    # The copy's relative paths (a wasm module) resolve from where the spec was written.
    spec = load(run_dir / folder.SPEC, where=plan.get("spec_path"))
    return _Run(
        run_dir, spec, plan, _json(run_dir / folder.RESULT), _table(run_dir / folder.HISTORY),
        _table(run_dir / folder.OPERATORS), _table(run_dir / folder.KPIS),
        _json(run_dir / folder.DEPLOYMENTS),
    )  # fmt: skip


def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path} cannot be read as JSON: {exc}") from exc


def _table(path: Path) -> pa.Table | None:
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ValidationError(f"{path} cannot be read as Parquet: {exc}") from exc
    return table if table.num_rows else None


def _front(run_dir: Path) -> tuple[np.ndarray, int]:
    """Objectives of the feasible non-dominated genomes stored so far, and how many genomes."""
    path = run_dir / folder.STORE
    if not path.is_file():
        return np.zeros((0, 0)), 0
    with GenomeStore(path, readonly=True) as store:
        table = store.runs()
        if table.num_rows == 0:
            return np.zeros((0, 0)), 0
        genomes = store.genomes(int(table.column("id")[0].as_py()))
    if genomes.num_rows == 0:
        return np.zeros((0, 0)), 0
    F = np.asarray(genomes.column("f").to_pylist(), dtype=np.float64)
    cv = genomes.column("cv").to_numpy()
    F = F[(cv <= 0) & np.isfinite(F).all(axis=1)]
    if F.shape[0] == 0:
        return F, genomes.num_rows
    return np.unique(F[pareto_rank(F) == 0], axis=0), genomes.num_rows


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


# the summary --------------------------------------------------------------------------------


def _rows(run: _Run, front: np.ndarray, stored: int, shown: int) -> list[tuple[str, str]]:
    """The summary as (label, text) rows, with the ``shown`` latest canary verdicts; a row
    with an empty label continues the one above."""
    o, r, p = run.objective, run.result or {}, run.plan
    sense = ", maximised" if run.spec.objective.maximize else ""
    rows = [
        ("run", str(run.path)),
        ("experiment", f"{run.spec.name}, seed {run.spec.seed}"),
        ("objective", f"{o['kind']} {o['name']}: {o['dim'] or '?'} genes, {o['n_obj']} "
                      f"objective(s){sense}"),
        ("algorithm", f"{r.get('algorithm', p.get('algorithm', run.spec.algorithm))} "
                      f"(pop {p.get('pop_size', '?')}) on the "
                      f"{r.get('backend', p.get('backend', '?'))} backend, "
                      f"{r.get('workers', p.get('workers', '?'))} worker(s)"),
        ("status", _status(run)),
    ]  # fmt: skip
    if run.result:
        rows.append(("result", headline(run.result)))
    elif (last := run.last()) is not None:
        rows.append(("last", _last_generation(last)))
    if run.n_obj > 1:
        rows.append(("archive", f"{len(front)} non-dominated of {stored:,} stored genomes"))
    rows.append(("budget", _budget(run)))
    rows.append(("time", _time(run)))
    rows += _operator_rows(run)
    rows += _deployment_rows(run, shown)
    return rows


def _text(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join(f"{label:<{width}}{text}".rstrip() for label, text in rows)


def _status(run: _Run) -> str:
    if run.result:
        return f"complete: {run.result['ngen']} generations ({run.result['message']})"
    done = 0 if run.history is None else run.history.num_rows
    return f"incomplete: {done} generations recorded so far (still running, or stopped)"


def _last_generation(last: dict[str, Any]) -> str:
    head = f"generation {last['generation']}, {last['nfev']:,} evaluations: "
    if "best" in last:
        return head + f"best {last['best']:.6g}, population mean {last['mean']:.6g}"
    hv = last.get("hypervolume")
    known = f", hypervolume {hv:.6g}" if hv is not None and np.isfinite(hv) else ""
    return head + f"{last['front_size']} on the front{known}"


def _budget(run: _Run) -> str:
    """Each budget's use against its limit."""
    if run.result:
        budget, used = run.result.get("budget", {}), run.result.get("used", {})
    else:
        b, last = run.spec.budget, run.last() or {}
        budget = {"evals": b.evals, "seconds": b.seconds, "generations": b.generations}
        used = {"evals": last.get("nfev", 0), "generations": last.get("generation", 0),
                "seconds": last.get("elapsed_s", 0.0)}  # fmt: skip
    parts = []
    for key, unit, fmt in (("evals", "evaluations", "{:,}"), ("generations", "generations", "{:,}"),
                           ("seconds", "s", "{:.2f}")):  # fmt: skip
        limit = budget.get(key)
        spent = "?" if used.get(key) is None else fmt.format(used[key])
        parts.append(f"{spent} {unit} (no limit)" if limit is None
                     else f"{spent} of {fmt.format(limit)} {unit}")  # fmt: skip
    if used.get("served_evals"):
        parts.append(f"{used['served_evals']:,} served evaluations")
    return "; ".join(parts)


def _time(run: _Run) -> str:
    """Predicted seconds against those taken."""
    predicted = run.plan.get("predicted_seconds")
    if run.result:
        took, so_far = run.result.get("elapsed_s"), ""
    else:
        took, so_far = (run.last() or {}).get("elapsed_s"), " so far"
    taken = "nothing recorded yet" if took is None else f"took {took:.2f} s{so_far}"
    if predicted is None:
        return f"not predicted (planned without probing); {taken}"
    ratio = f" ({took / predicted:.2f}x the prediction)" if took and predicted > 0 else ""
    return f"predicted {predicted:.2f} s, {taken}{ratio}"


def _arm_label(operators: dict[str, Any]) -> str:
    """``sbx + polynomial``: each operator's name (a table names it under "name")."""
    names = [str(v.get("name", v) if isinstance(v, dict) else v) for v in operators.values()]
    return " + ".join(names) or "defaults"


def _operator_rows(run: _Run) -> list[tuple[str, str]]:
    arms = run.arms
    if not arms:
        return []
    policy = run.spec.bandit.policy if run.spec.bandit is not None else "a"
    head = f"{policy} bandit over {len(arms)} arms"
    labels = [f"arm {i} ({_arm_label(ops)})" for i, ops in enumerate(arms)]
    if run.operators is None:  # written when the run ends
        return [("operators", f"{head}; their use is known when the run ends")] + [
            ("", label) for label in labels
        ]
    arm = run.operators.column("arm").to_numpy()
    reward = run.operators.column("reward").to_numpy()
    rows = [("operators", head)]
    for i, label in enumerate(labels):
        mine = arm == i
        credit = f", mean credit {reward[mine].mean():.3g}" if mine.any() else ""
        rows.append(("", f"{label}: {mine.sum()} generations ({mine.mean():.0%}){credit}"))
    return rows


def _verdicts(run: _Run) -> list[dict[str, Any]]:
    """The canaries' verdicts in order (with their generation when deployments.json has it)."""
    if run.deployments and run.deployments.get("verdicts") is not None:
        return list(run.deployments["verdicts"])
    events = (run.result or {}).get("deployment", {}).get("events", [])
    return [e for e in events if e.get("event") != "canary"]


def _deployment_rows(run: _Run, shown: int) -> list[tuple[str, str]]:
    dep = (run.result or {}).get("deployment") or run.deployments
    if not dep:
        known = run.spec.deploy is not None and not run.result
        return [("deployment", "its verdicts are known when the run ends")] if known else []
    verdicts = _verdicts(run)
    promoted = sum(v.get("event") == "promoted" for v in verdicts)
    incumbent = str(dep.get("incumbent") or "none")[:12]
    rows = [("deployment", f"incumbent {incumbent}; {len(verdicts)} canaries: {promoted} "
                           f"promoted, {len(verdicts) - promoted} rolled back")]  # fmt: skip
    if shown == 0:
        return rows
    if len(verdicts) > shown:
        rows.append(("", f"... {len(verdicts) - shown} earlier (report.html lists all)"))
    return rows + [("", _verdict_line(v)) for v in verdicts[-shown:]]


def _verdict_line(v: dict[str, Any]) -> str:
    at = f"generation {v['generation']}: " if "generation" in v else ""
    why = f": {v['why']}" if v.get("why") else ""
    return f"{at}canary {v.get('canary', '?')} {str(v.get('version', '?'))[:12]} {v['event']}{why}"


# plots ----------------------------------------------------------------------------------------


def _plots(run: _Run, front: np.ndarray, stored: int, out: Path) -> list[tuple[Path, str]]:
    """Each plot written, with its caption."""
    plots = [_plot_convergence(run, out / "convergence.png")]
    if run.n_obj in (2, 3) and len(front):
        plots.append(_plot_front(run, front, stored, out / "pareto.png"))
    if run.operators is not None:
        plots.append(_plot_operators(run.operators, run.arms, out / "operators.png"))
    if run.kpis is not None:
        plots.append(_plot_deployment(run.kpis, _verdicts(run), out / "deployment.png"))
    return plots


def _new_figure(height: float = 4.8) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    return Figure(figsize=(6.4, height), layout="constrained")


def _figure(rows: int = 1, height: float = 4.8) -> Any:
    """A figure and its ``rows`` axes, one above the other, sharing the generation axis."""
    fig = _new_figure(height)
    return fig, fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]


def _save(fig: Any, path: Path, caption: str) -> tuple[Path, str]:
    fig.savefig(path, dpi=110)
    return path, caption


def _plot_convergence(run: _Run, path: Path) -> tuple[Path, str]:
    fig, (ax,) = _figure()
    h = run.history
    ax.set_xlabel("generation")
    ax.grid(alpha=0.3)
    if h is None:
        ax.text(0.5, 0.5, "no generation recorded yet", ha="center", transform=ax.transAxes)
        return _save(fig, path, "Convergence: no generation recorded yet.")
    gen = _column(h, "generation")
    nfev = int(h.column("nfev")[-1].as_py())
    draw = _convergence_single if run.n_obj == 1 else _convergence_multi
    caption = draw(ax, h, gen)
    return _save(fig, path, f"{caption} {h.num_rows} generations, {nfev:,} evaluations.")


def _convergence_single(ax: Any, h: pa.Table, gen: Any) -> str:
    best, mean = _column(h, "best"), _column(h, "mean")
    low, high = _column(h, "min"), _column(h, "max")
    if low is not None and high is not None:
        ok = np.isfinite(low) & np.isfinite(high)
        ax.fill_between(gen[ok], low[ok], high[ok], alpha=0.15, label="population min to max")
    if mean is not None:
        ax.plot(gen, mean, alpha=0.7, label="population mean")
    if best is not None:
        ax.plot(gen, best, lw=2, label="best so far")
    shown = np.concatenate([v for v in (best, mean, np.zeros(0)) if v is not None])
    shown = shown[np.isfinite(shown)]
    # A log axis only where the values span decades; it would flatten a narrow range.
    if shown.size and shown.min() > 0 and shown.max() > 100 * shown.min():
        ax.set_yscale("log")
    ax.set_ylabel("fitness")
    ax.legend()
    return "Best fitness so far and the population's mean (band: its min to max) per generation:"


def _convergence_multi(ax: Any, h: pa.Table, gen: Any) -> str:
    hv, size = _column(h, "hypervolume"), _column(h, "front_size")
    axes = [ax]
    if hv is not None and np.isfinite(hv).any():
        ax.plot(gen, hv, lw=2, label="hypervolume")
        ax.set_ylabel("hypervolume of the population's front")
        axes.append(ax.twinx())  # front size has its own scale
    if size is not None:
        axes[-1].plot(gen, size, color="C1", alpha=0.7, label="front size")
        axes[-1].set_ylabel("non-dominated members")
    handles = [handle for a in axes for handle in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="lower right")
    return "Hypervolume of the population's front and its size per generation:"


def _plot_front(run: _Run, front: np.ndarray, stored: int, path: Path) -> tuple[Path, str]:
    m = front.shape[1]
    fig = _new_figure()
    ax: Any = fig.add_subplot(projection="3d" if m == 3 else None)
    true = _true_front(run)
    if true is not None:
        t = true[np.lexsort(true.T[::-1])]
        if m == 2:
            ax.plot(t[:, 0], t[:, 1], ".", ms=1.5, color="0.6", label="true front")
        else:
            ax.scatter(*t.T, s=1, color="0.7", label="true front")
    ax.scatter(*front.T, s=10, color="C3", label="found (non-dominated)")
    ax.set_xlabel("f1")
    ax.set_ylabel("f2")
    if m == 3:
        ax.set_zlabel("f3")
    name = run.objective["name"]
    ax.set_title(f"{name}: Pareto front")
    ax.legend()
    over = f", over the true front of {name}" if true is not None else ""
    return _save(fig, path, f"The {len(front)} non-dominated of the {stored:,} genomes the run "
                            f"evaluated{over}.")  # fmt: skip


def _true_front(run: _Run) -> np.ndarray | None:
    """Points of the true front, for a built-in problem that knows it (options as planning
    resolves them)."""
    o = run.spec.objective
    if o.kind != "problem":
        return None
    options = dict(o.options)
    if o.n_obj is not None and o.n_obj > 1:
        options["n_obj"] = o.n_obj
    try:
        prob = problems.get(o.target, o.dim, **options)
    except ValidationError:
        return None
    if prob.pareto_front is None:
        return None
    return np.asarray(prob.pareto_front(500 if prob.n_obj == 2 else 1000))


def _plot_operators(table: pa.Table, arms: list[dict[str, Any]], path: Path) -> tuple[Path, str]:
    order = np.argsort(table.column("generation").to_numpy(), kind="stable")
    gen = table.column("generation").to_numpy()[order]
    arm = table.column("arm").to_numpy()[order]
    reward = table.column("reward").to_numpy()[order]
    k = max(len(arms), int(arm.max()) + 1)
    labels = [f"arm {i}: {_arm_label(arms[i]) if i < len(arms) else '?'}" for i in range(k)]
    fig, (top, bottom) = _figure(2, 6.0)
    picked = arm[:, None] == np.arange(k)
    share = np.cumsum(picked, axis=0) / np.arange(1, len(arm) + 1)[:, None]
    top.stackplot(gen, share.T, labels=labels, alpha=0.8)
    top.set_ylabel("share of generations bred")
    top.set_ylim(0, 1)
    top.legend(loc="upper right", fontsize="small")
    for i in range(k):
        mine = arm == i
        if not mine.any():
            continue
        bottom.plot(gen[mine], reward[mine], ".", color=f"C{i}", alpha=0.35)
        bottom.plot(gen[mine], _rolling_mean(reward[mine], _CREDIT_WINDOW), color=f"C{i}")
    bottom.set_ylabel("credit")
    bottom.set_xlabel("generation")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return _save(fig, path, "Operator arms. Top: the share of generations each arm has bred so "
                            "far. Bottom: the credit the bandit gave the arm each generation it "
                            f"bred (dots) and its rolling mean over its last {_CREDIT_WINDOW}.")  # fmt: skip


def _rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each value and the ``window - 1`` before it (fewer at the start)."""
    total = np.cumsum(values)
    lagged = np.concatenate([np.zeros(window), total])[: len(values)]
    return np.asarray((total - lagged) / np.minimum(np.arange(1, len(values) + 1), window))


def _plot_deployment(kpis: pa.Table, verdicts: list[dict[str, Any]],
                     path: Path) -> tuple[Path, str]:  # fmt: skip
    metric = str(kpis.column("metric")[0].as_py())
    kpis = kpis.filter(pc.equal(kpis.column("metric"), metric))
    tags = pc.map_lookup(kpis.column("tags"), pa.scalar("generation"), "first")
    gen = np.asarray(pc.cast(tags, pa.float64()).to_numpy(zero_copy_only=False))
    roles = pc.map_lookup(kpis.column("tags"), pa.scalar("role"), "first").to_pylist()
    value = kpis.column("value").to_numpy()
    versions = [str(v)[:12] for v in kpis.column("version").to_pylist()]
    fig, (ax,) = _figure()
    # Jitter: a generation's several served evaluations would hide one another.
    x = gen + np.random.default_rng(0).uniform(-0.2, 0.2, len(gen))
    for i, version in enumerate(dict.fromkeys(versions)):
        for role, marker in (("incumbent", "o"), ("candidate", "^")):
            mine = np.array([v == version and r == role for v, r in zip(versions, roles,
                                                                        strict=True)])  # fmt: skip
            if mine.any():
                ax.scatter(x[mine], value[mine], s=12, marker=marker, alpha=0.6,
                           color=f"C{i % 10}", label=f"{version} ({role})")  # fmt: skip
    for event, color in (("promoted", "C2"), ("rolled back", "C3")):
        at = [v["generation"] for v in verdicts if v.get("event") == event and "generation" in v]
        for j, g in enumerate(at):
            ax.axvline(g, color=color, ls="--", lw=1, label=event if j == 0 else None)
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    # Below the axes: served values fill the plot, and versions can be many.
    fig.legend(loc="outside lower center", fontsize="small", ncols=3)
    return _save(fig, path, f"The {metric} KPI of served evaluations per generation, by version (circles: serving as "
                            "incumbent, triangles: as canary); dashed lines: promotions (green) "
                            "and rollbacks (red).")  # fmt: skip


# report.html --------------------------------------------------------------------------------

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:1em 0}th,td{padding:.2em .9em .2em 0;"
    "text-align:left;vertical-align:top}tbody th{white-space:nowrap;color:#555;font-weight:600}"
    "td{font-family:ui-monospace,monospace;font-size:13px}figure{margin:2em 0}"
    "img{max-width:100%}figcaption{color:#555;font-size:14px}"
)


def _html(run: _Run, rows: list[tuple[str, str]], plots: list[tuple[Path, str]]) -> str:
    e = html.escape
    summary = "\n".join(f"<tr><th>{e(label)}</th><td>{e(text)}</td></tr>" for label, text in rows)
    figures = "\n".join(
        f'<figure><img src="{e(path.name)}" alt="{e(path.stem)}">'
        f"<figcaption>{e(caption)}</figcaption></figure>"
        for path, caption in plots
    )
    title = e(f"Chimera run {run.spec.name}")
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        f"<table><tbody>\n{summary}\n</tbody></table>\n{_verdict_table(_verdicts(run))}"
        f"{figures}\n</body>\n</html>\n"
    )


def _verdict_table(verdicts: list[dict[str, Any]]) -> str:
    if not verdicts:
        return ""
    e = html.escape
    cells = ("generation", "canary", "version", "event", "why")
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(v.get(c, '')))}</td>" for c in cells[:2])
        + f"<td>{e(str(v.get('version', ''))[:12])}</td>"
        + "".join(f"<td>{e(str(v.get(c, '')))}</td>" for c in cells[3:]) + "</tr>"
        for v in verdicts
    )  # fmt: skip
    head = "".join(f"<th>{c}</th>" for c in cells)
    return f"<h2>Canary verdicts</h2>\n<table><thead><tr>{head}</tr></thead>\n{body}\n</table>\n"

"""The report's PNG plots, drawn on matplotlib Figures (no pyplot: no GUI backend, no global
state): convergence, the Pareto front, the operator arms, and the served deployments."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import problems
from .._durable import replacing
from .._errors import ValidationError
from .read import Run, number
from .text import arm_label

_CREDIT_WINDOW = 5  # generations of an arm's credit in its rolling mean


def draw(run: Run, front: np.ndarray, stored: int, out: Path) -> list[tuple[Path, str]]:
    """Each plot written, with its caption."""
    plots = [_plot_convergence(run, out / "convergence.png")]
    if run.n_obj in (2, 3) and len(front):
        plots.append(_plot_front(run, front, stored, out / "pareto.png"))
    if run.operators is not None:
        plots.append(_plot_operators(run.operators, run.arms, out / "operators.png"))
    if run.kpis is not None:
        plots.append(_plot_deployment(run, out / "deployment.png"))
    return plots


def _new_figure(height: float = 4.8) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    return Figure(figsize=(6.4, height), layout="constrained")


def _figure(rows: int = 1, height: float = 4.8) -> Any:
    """A figure and its ``rows`` axes, one above the other, sharing the generation axis."""
    fig = _new_figure(height)
    return fig, fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]


def _save(fig: Any, path: Path, caption: str) -> tuple[Path, str]:
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return path, caption


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _plot_convergence(run: Run, path: Path) -> tuple[Path, str]:
    fig, (ax,) = _figure()
    h = run.history
    ax.set_xlabel("generation")
    ax.grid(alpha=0.3)
    if h is None:
        ax.text(0.5, 0.5, "no generation recorded yet", ha="center", transform=ax.transAxes)
        return _save(fig, path, "Convergence: no generation recorded yet.")
    gen = _column(h, "generation")
    nfev = int(h.column("nfev")[-1].as_py())
    if run.n_obj == 1:
        caption = _convergence_single(ax, h, gen, run.objective_sense)
    else:
        caption = _convergence_multi(ax, h, gen, _optimal_hypervolume(run))
    return _save(fig, path, f"{caption} {h.num_rows} generations, {nfev:,} evaluations.")


def _convergence_single(ax: Any, h: pa.Table, gen: Any, sense: str) -> str:
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
    ax.set_ylabel(f"fitness ({sense})")
    ax.legend()
    return (f"Best fitness so far and the population's mean (band: its min to max) per "
            f"generation; the fitness is the objective's value, and {sense}:")  # fmt: skip


def _convergence_multi(ax: Any, h: pa.Table, gen: Any, optimal: float | None) -> str:
    hv, size = _column(h, "hypervolume"), _column(h, "front_size")
    axes = [ax]
    if hv is not None and np.isfinite(hv).any():
        ax.plot(gen, hv, lw=2, label="hypervolume")
        if optimal is not None:
            ax.axhline(optimal, ls="--", color="k", lw=1, label="hypervolume of the true front")
        ax.set_ylabel("hypervolume of the population's front")
        axes.append(ax.twinx())  # front size has its own scale
    if size is not None:
        axes[-1].plot(gen, size, color="C1", alpha=0.7, label="front size")
        axes[-1].set_ylabel("non-dominated members")
    handles = [handle for a in axes for handle in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="lower right")
    best = (
        "" if optimal is None else f" (dashed: the true front's, {optimal:.6g}; higher is better)"
    )
    return f"Hypervolume of the population's front{best} and its size per generation:"


def _plot_front(run: Run, front: np.ndarray, stored: int, path: Path) -> tuple[Path, str]:
    m = front.shape[1]
    fig = _new_figure()
    ax: Any = fig.add_subplot(projection="3d" if m == 3 else None)
    true = _true_front(run)
    final = _final_front(run)
    # What the run found underneath, what it ended with over it, the true front on top.
    ax.scatter(*front.T, s=6, color="C0", alpha=0.3, zorder=1,
               label=f"non-dominated of all {stored:,} evaluated")  # fmt: skip
    if final is not None:
        ax.scatter(*final.T, s=24, facecolors="none", edgecolors="C3", zorder=2,
                   label="the final population's front")  # fmt: skip
    if true is not None:
        t = true[np.lexsort(true.T[::-1])]
        ax.scatter(*t.T, s=1.5, color="k", zorder=3, label="true front")
    ax.set_xlabel("f1")
    ax.set_ylabel("f2")
    if m == 3:
        ax.set_zlabel("f3")
    name = run.objective["name"]
    ax.set_title(f"{name}: Pareto front")
    ax.legend()
    over = ""
    if true is not None:
        over = f"; the true front of {name} in black"
        if final is not None and len(final):
            from ..indicators import igd

            over += (f" (IGD of the final front to it: {igd(final, true):.4g}, lower is "
                     "better)")  # fmt: skip
    return _save(fig, path, f"The {len(front)} non-dominated of the {stored:,} genomes the run "
                            f"evaluated (blue), the final population's front (red rings)"
                            f"{over}.")  # fmt: skip


def _final_front(run: Run) -> np.ndarray | None:
    """The final population's non-dominated objectives (from result.json)."""
    pf = None if run.result is None else run.result.get("pareto_f")
    return None if not pf else np.asarray(pf, dtype=np.float64)


def _optimal_hypervolume(run: Run) -> float | None:
    """The hypervolume of the true front against the run's reference point, where both are
    known (a sample of 500 or 1,000 points: a hair under the exact value)."""
    true = _true_front(run)
    ref = None if run.result is None else run.result.get("ref_point")
    if true is None or ref is None:
        return None
    from ..indicators import hypervolume

    return float(hypervolume(true, np.asarray(ref, dtype=np.float64)))


def _true_front(run: Run) -> np.ndarray | None:
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
    labels = [f"arm {i}: {arm_label(arms[i]) if i < len(arms) else '?'}" for i in range(k)]
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


def _plot_deployment(run: Run, path: Path) -> tuple[Path, str]:
    assert run.kpis is not None
    metric = str(run.kpis.column("metric")[0].as_py())
    kpis = run.kpis.filter(pc.equal(run.kpis.column("metric"), metric))
    tags = pc.map_lookup(kpis.column("tags"), pa.scalar("generation"), "first")
    gen = np.asarray(pc.cast(tags, pa.float64()).to_numpy(zero_copy_only=False))
    roles = np.array(pc.map_lookup(kpis.column("tags"), pa.scalar("role"), "first").to_pylist())
    value = kpis.column("value").to_numpy()
    # KPI records name a version by its short id
    versions = np.array([str(v)[:12] for v in kpis.column("version").to_pylist()])
    verdicts = [v for v in run.verdicts() if "generation" in v]
    fig = _new_figure(8.0)
    top, bottom = fig.subplots(2, 1)
    _served(top, gen, roles, value, verdicts, metric)
    _trained_and_served(bottom, run, versions, roles, value, verdicts, metric)
    return _save(fig, path, f"Top: the {metric} KPI of each served evaluation by generation "
                            "(circles: the incumbent, triangles: the canary); dashed lines: the "
                            "gate's verdicts, numbered by canary. Bottom: each canary's fitness "
                            f"in training against the mean {metric} the gate judged it by; one "
                            "far above the diagonal served worse than it trained, which is "
                            "what the gate is for.")  # fmt: skip


def _served(ax: Any, gen: np.ndarray, roles: np.ndarray, value: np.ndarray,
            verdicts: list[dict[str, Any]], metric: str) -> None:  # fmt: skip
    # Jitter: a generation's several served evaluations would hide one another.
    x = gen + np.random.default_rng(0).uniform(-0.2, 0.2, len(gen))
    for role, marker, color in (("incumbent", "o", "C0"), ("candidate", "^", "C1")):
        mine = roles == role
        if mine.any():
            ax.scatter(x[mine], value[mine], s=10, marker=marker, alpha=0.5, color=color,
                       label="canary" if role == "candidate" else role)  # fmt: skip
    for event, color in (("promoted", "C2"), ("rolled back", "C3")):
        for j, v in enumerate(e for e in verdicts if e.get("event") == event):
            ax.axvline(v["generation"], color=color, ls="--", lw=1, label=event if j == 0 else None)
            ax.text(v["generation"], 1.0, f" {v.get('canary', '')}", color=color, va="bottom",
                    ha="center", fontsize="x-small", transform=ax.get_xaxis_transform())  # fmt: skip
    _log_if_spread(ax, value, "y")
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncols=2)


def _trained_and_served(ax: Any, run: Run, versions: np.ndarray, roles: np.ndarray,
                        value: np.ndarray, verdicts: list[dict[str, Any]],
                        metric: str) -> None:  # fmt: skip
    sign = -1.0 if run.objective_sense == "higher is better" else 1.0  # metadata is minimised
    points = []
    for v in verdicts:
        fitness = run.version_metadata(v.get("version")).get("fitness")
        # The gate's own mean; a run written before verdicts kept it: the canary's records
        # (which may include a few served after the verdict, in the same round)
        served = value[(versions == str(v.get("version"))[:12]) & (roles == "candidate")]
        mean = v.get("candidate_mean", float(served.mean()) if len(served) else None)
        if number(fitness) and number(mean) and math.isfinite(fitness) and math.isfinite(mean):
            points.append((sign * float(fitness), float(mean), v))
    for event, color in (("promoted", "C2"), ("rolled back", "C3")):
        mine = [(t, s, v) for t, s, v in points if v.get("event") == event]
        if mine:
            ax.scatter([t for t, _, _ in mine], [s for _, s, _ in mine], color=color, label=event)
        for t, s, v in mine:
            ax.annotate(f" {v.get('canary', '')}", (t, s), fontsize="x-small", color=color)
    if points:
        both = np.array([(t, s) for t, s, _ in points])
        low, high = float(both.min()), float(both.max())
        ax.plot([low, high], [low, high], color="0.6", ls="--", lw=1, label="served as trained")
        _log_if_spread(ax, both.ravel(), "x", "y")
        ax.legend(fontsize="small")
    ax.set_xlabel("fitness in training (the version's own evaluation)")
    ax.set_ylabel(f"mean {metric} as canary")
    ax.grid(alpha=0.3)


def _log_if_spread(ax: Any, values: np.ndarray, *axes: str) -> None:
    """Log scale on ``axes`` when the values are positive and span more than 10x: a few
    fallen episodes would otherwise flatten the rest against the bottom."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0 and finite.max() > 10 * finite.min():
        for name in axes:
            getattr(ax, f"set_{name}scale")("log")
            axis = getattr(ax, f"{name}axis")  # plain numbers at the decades, none between
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())

"""The one-screen summary of a run: (label, text) rows, and those rows as text."""

from __future__ import annotations

from typing import Any

import numpy as np

from .read import Run, number


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


def summary(run: Run, front: np.ndarray, stored: int, shown: int) -> list[tuple[str, str]]:
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
    if run.result and run.result.get("steps"):
        rows.append(("steps", _steps(run.result["steps"])))
    rows += _operator_rows(run)
    rows += _deployment_rows(run, shown)
    return rows


def screen(rows: list[tuple[str, str]]) -> str:
    """The rows as text, the labels in a column."""
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join(f"{label:<{width}}{text}".rstrip() for label, text in rows)


def arm_label(operators: dict[str, Any]) -> str:
    """``sbx + polynomial``: each operator's name (a table names it under "name")."""
    names = [str(v.get("name", v) if isinstance(v, dict) else v) for v in operators.values()]
    return " + ".join(names) or "defaults"


def _status(run: Run) -> str:
    if run.result:
        resumed = run.result.get("resumed_after")
        again = "" if not resumed else (
            f"; interrupted, and resumed after generation {', '.join(map(str, resumed))}")  # fmt: skip
        return f"complete: {run.result['ngen']} generations ({run.result['message']}){again}"
    done = 0 if run.history is None else run.history.num_rows
    return (f"incomplete: {done} generations recorded so far (still running, or stopped: "
            f"continue it with `chimera run --resume {run.path}`)")  # fmt: skip


def _last_generation(last: dict[str, Any]) -> str:
    head = f"generation {last['generation']}, {last['nfev']:,} evaluations: "
    if "best" in last:
        return head + f"best {last['best']:.6g}, population mean {last['mean']:.6g}"
    hv = last.get("hypervolume")
    known = f", hypervolume {hv:.6g}" if hv is not None and np.isfinite(hv) else ""
    return head + f"{last['front_size']} on the front{known}"


def _budget(run: Run) -> str:
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


def _time(run: Run) -> str:
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
    worst = run.plan.get("worst_seconds")
    bound = (f" (at most {worst:.2f} s if every evaluation spent its fuel or ran out of it)"
             if worst else "")  # fmt: skip
    return f"predicted {predicted:.2f} s{bound}, {taken}{ratio}"


def _steps(steps: dict[str, Any]) -> str:
    """Where a generation's time went, step by step, beside the plan's prediction."""
    parts = []
    for name, step in steps.items():
        predicted = step.get("predicted_seconds")
        guess = "" if predicted is None else f" (predicted {predicted * 1e3:,.0f})"
        parts.append(f"{name} {step['seconds'] * 1e3:,.0f} ms{guess}")
    return "; ".join(parts)


def _operator_rows(run: Run) -> list[tuple[str, str]]:
    arms = run.arms
    if not arms:
        return []
    policy = run.spec.bandit.policy if run.spec.bandit is not None else "a"
    head = f"{policy} bandit over {len(arms)} arms"
    labels = [f"arm {i} ({arm_label(ops)})" for i, ops in enumerate(arms)]
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


def _deployment_rows(run: Run, shown: int) -> list[tuple[str, str]]:
    dep = (run.result or {}).get("deployment") or run.deployments
    if not dep:
        known = run.spec.deploy is not None and not run.result
        return [("deployment", "its verdicts are known when the run ends")] if known else []
    verdicts = run.verdicts()
    promoted = sum(v.get("event") == "promoted" for v in verdicts)
    name = _version_names(run)
    incumbent = name(dep.get("incumbent"))
    rows = [("deployment", f"incumbent {incumbent}; {len(verdicts)} canaries: {promoted} "
                           f"promoted, {len(verdicts) - promoted} rolled back")]  # fmt: skip
    if shown == 0:
        return rows
    if len(verdicts) > shown:
        rows.append(("", f"... {len(verdicts) - shown} earlier (report.html lists all)"))
    return rows + [("", _verdict_line(v, name)) for v in verdicts[-shown:]]


def _version_names(run: Run) -> Any:
    """A version's short id with what it is: the spec's incumbent, or the champion of a
    generation, and its training fitness (from the artifact's metadata)."""

    def name(version: Any) -> str:
        if not version:
            return "none"
        meta = run.version_metadata(version)
        if not meta:  # no artifact, or not written by a run: the id alone
            return str(version)[:12]
        gen = meta.get("generation")
        what = "the spec's incumbent" if gen == -1 else f"generation {gen}'s champion"
        fitness = meta.get("fitness")
        fit = f", fitness {fitness:.6g}" if number(fitness) else ""
        return f"{str(version)[:12]} ({what}{fit})"

    return name


def _verdict_line(v: dict[str, Any], name: Any = None) -> str:
    at = f"generation {v['generation']}: " if "generation" in v else ""
    why = f": {v['why']}" if v.get("why") else ""
    version = name(v.get("version")) if name else str(v.get("version", "?"))[:12]
    return f"{at}canary {v.get('canary', '?')} {version} {v['event']}{why}"

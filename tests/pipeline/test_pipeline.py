"""The pipeline: the quickstart end to end, every step of the loop, budgets, and resume after
a kill in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from chimera import pipeline
from chimera.cli import main
from chimera.evolution import checkpoints
from chimera.evolution.store import GenomeStore
from chimera.kpi import KPI_SCHEMA
from helpers import EXAMPLES

AGENT = (EXAMPLES / "agents" / "double_pole.wasm").resolve()


def quickstart(tmp_path: Path, *changes: tuple[str, str], name: str = "spec.toml") -> Path:
    """The quickstart spec with ``changes``, written where the test can run it."""
    text = (EXAMPLES / "quickstart.toml").read_text()
    text = text.replace('"agents/double_pole.wasm"', f'"{AGENT}"')
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / name
    p.write_text(text)
    return p


SMALL = ("generations = 80", "generations = 12")
# An incumbent that drops the poles at once: the first champions beat it, so a short run
# has canaries to decide.
WEAK = (
    "incumbent = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]",
    "incumbent = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]",
)
QUIET = ('dir = "runs"', 'dir = "runs"\nreport = false')


def test_quickstart_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", str(quickstart(tmp_path, SMALL, WEAK)), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "plan" in captured.err and "best" in captured.err
    result = json.loads((out / "result.json").read_text())
    assert result["ngen"] == 12 and result["nfev"] == 12 * 64
    assert result["message"] == "generation budget of 12 spent"
    assert result["used"]["served_evals"] >= 12 * 8 and result["kind"] == "wasm"
    # every step of the loop ran once a generation, timed beside the plan's prediction
    steps = result["steps"]
    assert list(steps) == ["breed", "evaluate", "decide", "commit", "serve", "checkpoint"]
    assert all(s["calls"] == 12 and s["seconds"] >= 0 for s in steps.values())
    assert steps["evaluate"]["predicted_seconds"] > 0
    # the bandit chose among the three arms, credited from the second generation on
    assert sum(a["generations"] for a in result["operators"]) == 11
    credit = pq.read_table(out / "operators.parquet")
    assert credit.num_rows == 11 and set(credit.column("arm").to_pylist()) <= {0, 1, 2}
    # the canary ran and was decided by the gate
    events = result["deployment"]["events"]
    assert result["deployment"]["candidate"] is None  # the last canary was settled
    assert events and {e["event"] for e in events} <= {"promoted", "rolled back"}
    kpis = pq.read_table(out / "kpis.parquet")
    assert kpis.schema.equals(KPI_SCHEMA) and kpis.num_rows == result["used"]["served_evals"]
    with GenomeStore(out / "genomes.sqlite", readonly=True) as store:
        assert store.genomes(1).num_rows == 12 * 64
    assert len(list((out / "artifacts").iterdir())) >= 2
    for name in ("report.html", "convergence.png", "plan.json", "history.parquet"):
        assert (out / name).is_file(), name


def test_budgets_are_enforced(tmp_path: Path) -> None:
    spec = quickstart(tmp_path, ("generations = 80\nseconds = 50", "evals = 300"), QUIET)
    outcome = pipeline.start(spec, tmp_path / "evals", probe=False)
    assert (
        outcome.summary["nfev"] == 256 and "evaluation budget of 300" in outcome.summary["message"]
    )
    spec = quickstart(tmp_path, ("seconds = 50", "seconds = 0.2"), QUIET, name="t.toml")
    outcome = pipeline.start(spec, tmp_path / "seconds", probe=False)
    assert outcome.summary["message"] == "time budget of 0.2 s spent"
    assert outcome.summary["ngen"] < 80


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from chimera.cli import main; sys.exit(main())",
            *args]  # fmt: skip


def _same_runs(a: Path, b: Path) -> None:
    ra, rb = (json.loads((p / "result.json").read_text()) for p in (a, b))
    for key in ("fun", "x", "nfev", "ngen", "operators", "deployment"):
        assert ra[key] == rb[key], key
    assert {k: s["calls"] for k, s in ra["steps"].items()} == {
        k: s["calls"] for k, s in rb["steps"].items()
    }
    assert ra["used"]["served_evals"] == rb["used"]["served_evals"]
    for name in ("operators.parquet", "history.parquet"):
        ta, tb = pq.read_table(a / name), pq.read_table(b / name)
        if "elapsed_s" in ta.column_names:
            ta, tb = ta.drop(["elapsed_s"]), tb.drop(["elapsed_s"])
        assert ta.equals(tb), name
    assert pq.read_table(a / "kpis.parquet").equals(pq.read_table(b / "kpis.parquet"))
    with GenomeStore(a / "genomes.sqlite", readonly=True) as sa, \
            GenomeStore(b / "genomes.sqlite", readonly=True) as sb:  # fmt: skip
        cols = ["id", "generation", "x", "f", "parent1", "parent2", "operators"]
        ga, gb = sa.genomes(1), sb.genomes(1)
        assert ga.select(cols).equals(gb.select(cols))


def test_resume_after_a_kill_in_the_middle_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    spec = quickstart(tmp_path, ("generations = 80\nseconds = 50", "generations = 60"), QUIET)
    ref = tmp_path / "reference"
    assert main(["run", str(spec), "--out", str(ref), "-q"]) == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen(_command("run", str(spec), "--out", str(out), "-q"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    folder = out / "checkpoints"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if len(checkpoints.generations(folder)) >= 2 and max(checkpoints.generations(folder)) >= 20:
            break
        time.sleep(0.002)
    if proc.poll() is not None:
        err = proc.stderr.read() if proc.stderr else b""
        pytest.fail(f"the run ended before it could be killed: {err!r}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr and proc.stderr.close()
    assert not (out / "result.json").exists()
    assert main(["run", "--resume", str(out), "-q"]) == 0
    _same_runs(ref, out)


def test_a_run_without_a_seed_resumes_as_it_began(tmp_path: Path) -> None:
    import shutil

    # no seed, and an arm that names only its crossover (its mutation is the algorithm's)
    spec = quickstart(tmp_path, SMALL, QUIET, WEAK, ("seed = 42\n", ""),
                      ('{ crossover = "uniform", mutation = { name = "gaussian", sigma = 0.02 } }',
                       '{ crossover = "uniform" }'))  # fmt: skip
    out = tmp_path / "run"
    pipeline.start(spec, out, probe=False)
    planned = json.loads((out / "plan.json").read_text())
    assert isinstance(planned["seed"], int)
    ref = tmp_path / "reference"
    shutil.copytree(out, ref)
    # as if killed after generation 10: the newer checkpoints and the result never written
    (out / "result.json").unlink()
    for g in checkpoints.generations(out / "checkpoints"):
        if g > 10:
            checkpoints.path_of(out / "checkpoints", g).unlink()
    outcome = pipeline.resume(out)
    assert outcome.resumed_from == 10
    _same_runs(ref, out)
    assert outcome.summary["predicted_seconds"] == json.loads(
        (ref / "result.json").read_text())["predicted_seconds"]  # fmt: skip


def test_a_failure_while_running_exits_3_and_the_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chimera.evaluation import AgentEvaluator

    spec = quickstart(tmp_path, SMALL, QUIET, WEAK)
    ref = tmp_path / "reference"
    assert main(["run", str(spec), "--out", str(ref), "-q"]) == 0
    original, calls = AgentEvaluator.__call__, []

    def failing(self: AgentEvaluator, X: np.ndarray) -> tuple[np.ndarray, None]:
        calls.append(len(X))
        if calls.count(64) == 7:  # the seventh generation's population
            raise RuntimeError("the node lost its network")
        return original(self, X)

    monkeypatch.setattr(AgentEvaluator, "__call__", failing)
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "-q"]) == 3
    err = capsys.readouterr().err
    assert "stopped at generation 6: the node lost its network" in err and "--resume" in err
    assert not (out / "result.json").exists()
    monkeypatch.setattr(AgentEvaluator, "__call__", original)
    assert main(["run", "--resume", str(out), "-q"]) == 0
    _same_runs(ref, out)


def test_maximised_objectives(tmp_path: Path) -> None:
    text = '[experiment]\nseed = 1\n[objective]\nproblem = "sphere"\ndim = 3\n{sense}\n' \
           '[algorithm]\nname = "ga"\npop_size = 20\n[budget]\nevals = 400\n' \
           '[output]\nreport = false\n'  # fmt: skip
    runs = {}
    for sense in ("", "maximize = true"):
        p = tmp_path / f"s{len(sense)}.toml"
        p.write_text(text.format(sense=sense))
        runs[sense] = pipeline.start(p, tmp_path / f"r{len(sense)}", probe=False).summary["fun"]
    assert runs[""] < 1.0 < 3 * 5.12**2 * 0.5 < runs["maximize = true"]
    # a sandbox stop is the worst value for a maximiser too, never the best
    spec = quickstart(tmp_path, SMALL, QUIET, ("fuel = 10_000_000", "fuel = 4_000"),
                      ("bounds = [[-10.0, 10.0]]", "bounds = [[-10.0, 10.0]]\nmaximize = true"),
                      ("incumbent = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]", "# no incumbent:"), name="max.toml")  # fmt: skip
    summary = pipeline.start(spec, tmp_path / "max", probe=False).summary
    assert summary["fun"] <= 1000
    with GenomeStore(tmp_path / "max" / "genomes.sqlite", readonly=True) as store:
        f = np.concatenate(store.genomes(1).column("f").to_pylist())
    assert f.max() <= 1000 and (f == -1e30).any()  # stopped ones were stored as the worst

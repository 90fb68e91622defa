"""Durable runs: chimera run --resume after kill -9 or a damaged checkpoint equals an
uninterrupted run, a folder belongs to its spec, and chimera report on run folders."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chimera import ValidationError
from chimera.cli import main
from chimera.evolution import checkpoints
from chimera.evolution.store import GenomeStore
from helpers import EXAMPLES

ZDT = """
[experiment]
name = "zdt1-nsga2"
seed = 11

[objective]
problem = "zdt1"

[algorithm]
name = "nsga2"
pop_size = 40

[budget]
evals = {evals}

[output]
report = false
"""

DTLZ = """
[experiment]
name = "dtlz2-nsga3"
seed = 5

[objective]
problem = "dtlz2"
n_obj = 3
ref_point = [1.1, 1.1, 1.1]

[algorithm]
name = "nsga3"
n_partitions = 6

[budget]
evals = 11200

[output]
report = false
"""


def spec_file(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def result(run_dir: Path) -> dict:
    return json.loads((run_dir / "result.json").read_text())


def stored(run_dir: Path) -> dict[str, list]:
    with GenomeStore(run_dir / "genomes.sqlite", readonly=True) as store:
        table = store.genomes(1)
    cols = ["id", "generation", "x", "f", "parent1", "parent2", "operators"]
    return {c: table.column(c).to_pylist() for c in cols}


# runs and resume --------------------------------------------------------------------------


def test_resume_of_a_complete_run_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    spec = spec_file(tmp_path, ZDT.format(evals=2000))
    assert main(["run", str(spec), "--out", str(out), "-q"]) == 0
    first = result(out)
    assert first["ngen"] == 50 and first["nfev"] == 2000 and len(first["pareto_f"]) > 0
    assert first["hypervolume"] > 0.2 and first["ref_point"] == pytest.approx([1.1, 1.1])
    genomes = stored(out)
    assert genomes["generation"] == [g for g in range(50) for _ in range(40)]
    assert main(["run", "--resume", str(out)]) == 0
    assert "already complete" in capsys.readouterr().err
    assert result(out) == first


def test_run_folder_of_another_spec_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    a = spec_file(tmp_path, ZDT.format(evals=400), "a.toml")
    b = spec_file(tmp_path, ZDT.format(evals=800), "b.toml")
    assert main(["run", str(a), "--out", str(out), "-q"]) == 0
    assert main(["run", str(b), "--out", str(out), "-q"]) == 2
    assert main(["run", str(a), "--out", str(out), "-q"]) == 2  # same spec: use --resume
    assert main(["run", str(b), "--resume", str(out), "-q"]) == 2
    assert main(["run", "--resume", str(tmp_path), "-q"]) == 2  # not a run folder
    assert result(out)["nfev"] == 400  # nothing was lost


def _uninterrupted(tmp_path: Path, spec: Path) -> Path:
    ref = tmp_path / "reference"
    assert main(["run", str(spec), "--out", str(ref), "-q"]) == 0
    return ref


def _command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from chimera.cli import main; sys.exit(main())",
        *args,
    ]


def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    spec = spec_file(tmp_path, ZDT.format(evals=16000))  # 400 generations
    ref = _uninterrupted(tmp_path, spec)
    out = tmp_path / "killed"
    rng = random.Random(2026)
    kills = 0
    command = _command("run", str(spec), "--out", str(out), "-q")
    for _ in range(8):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(1.0, 3.0))
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
            proc.stderr and proc.stderr.close()
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr and proc.stderr.close()
        kills += 1
        # Every generation committed so far is whole, and the store is readable meanwhile.
        if (out / "genomes.sqlite").is_file():
            with GenomeStore(out / "genomes.sqlite", readonly=True) as store:
                if store.runs().num_rows:
                    gens = store.genomes(1).column("generation").to_numpy()
                    counts = np.bincount(gens) if gens.size else np.zeros(0)
                    assert (counts == 40).all()
        if (out / "spec.toml").is_file():  # else killed while planning: start again
            command = _command("run", "--resume", str(out), "-q")
    assert kills >= 1
    if not (out / "spec.toml").is_file():
        assert main(["run", str(spec), "--out", str(out), "-q"]) == 0
    assert main(["run", "--resume", str(out), "-q"]) == 0
    a, b = result(ref), result(out)
    for key in ("pareto_x", "pareto_f", "hypervolume", "nfev", "ngen"):
        assert a[key] == b[key], key
    assert stored(ref) == stored(out)


def test_resume_skips_a_damaged_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(tmp_path, DTLZ)
    ref = _uninterrupted(tmp_path, spec)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _command("run", str(spec), "--out", str(out), "-q"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    folder = out / "checkpoints"
    while proc.poll() is None and len(checkpoints.generations(folder)) < 3:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gens = checkpoints.generations(folder)
    if (out / "result.json").exists():
        pytest.skip("the run finished before it could be killed")
    newest = checkpoints.path_of(folder, gens[-1])
    newest.write_bytes(newest.read_bytes()[:-7])
    capsys.readouterr()
    assert main(["run", "--resume", str(out)]) == 0
    err = capsys.readouterr().err
    assert "damaged checkpoint" in err and f"resumed after generation {gens[-2]}" in err
    a, b = result(ref), result(out)
    assert a["pareto_f"] == b["pareto_f"] and a["hypervolume"] == b["hypervolume"]
    assert stored(ref) == stored(out)
    # the interruption is on record, and the report says so
    assert b["resumed_after"] == [gens[-2]] and "resumed_after" not in a
    assert main(["report", str(out)]) == 0
    assert f"interrupted, and resumed after generation {gens[-2]}" in capsys.readouterr().out


# report -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [ZDT.format(evals=800), DTLZ])
def test_report_summarises_and_plots(tmp_path: Path, text: str, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(spec_file(tmp_path, text)), "--out", str(out), "-q"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "plots")]) == 0
    printed = capsys.readouterr().out
    assert "complete" in printed and "Pareto points" in printed and "non-dominated" in printed
    for name in ("convergence.png", "pareto.png"):
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_report_of_a_single_objective_run_and_of_a_non_run(tmp_path: Path, capsys) -> None:
    text = (
        (EXAMPLES.parent / "tests" / "test_cli.py")
        .read_text()
        .split('SPEC = """')[1]
        .split('"""')[0]
    )
    out = tmp_path / "run"
    assert main(["run", str(spec_file(tmp_path, text)), "--out", str(out), "-q"]) == 0
    assert main(["report", str(out)]) == 0
    assert "best" in capsys.readouterr().out
    assert (out / "convergence.png").is_file() and not (out / "pareto.png").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2


@pytest.mark.parametrize("name", ["zdt1_nsga2", "dtlz2_nsga3"])
def test_multi_objective_examples_parse(name: str) -> None:
    from chimera import planning

    s = planning.load(EXAMPLES / f"{name}.toml")
    assert s.algorithm in ("nsga2", "nsga3") and s.budget.evals


def test_spec_refuses_options_an_algorithm_does_not_take(tmp_path: Path) -> None:
    from chimera import planning

    text = ZDT.format(evals=100).replace('name = "nsga2"', 'name = "nsga2"\nelitism = 3')
    with pytest.raises(ValidationError, match="elitism does not apply to nsga2"):
        planning.load(spec_file(tmp_path, text))

"""The chimera command and experiment specs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from chimera import ValidationError, planning
from chimera.cli import main

SPEC = """
[experiment]
name = "tiny"
seed = 3

[objective]
problem = "sphere"
dim = 5

[algorithm]
name = "ga"
pop_size = 20
crossover = { name = "sbx", eta = 15 }
mutation = { name = "polynomial", eta = 20 }
elitism = 20

[budget]
evals = 2000

[output]
report = false
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.toml"
    p.write_text(text)
    return p


def test_run_writes_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", str(write(tmp_path, SPEC)), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    result = json.loads((out / "result.json").read_text())
    assert result["nfev"] == 2000 and result["ngen"] == 100 and result["fun"] < 1e-2
    history = pq.read_table(out / "history.parquet")
    assert history.num_rows == 100
    assert (out / "spec.toml").read_text() == SPEC
    # the same spec and seed give the same answer
    again = tmp_path / "again"
    assert main(["run", str(write(tmp_path, SPEC)), "--out", str(again), "-q"]) == 0
    assert json.loads((again / "result.json").read_text())["fun"] == result["fun"]


def test_quickstart_spec_parses() -> None:
    s = planning.load(Path(__file__).parent.parent / "examples" / "quickstart.toml")
    assert s.objective.kind == "wasm" and s.objective.target.endswith("double_pole.wasm")
    assert s.bandit is not None and len(s.bandit.arms) == 3 and s.deploy is not None


def test_run_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["run", str(write(tmp_path, SPEC)), "--out", str(out), "-q"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (SPEC.replace("[budget]", "[budgett]"), r"unknown section \[budgett\]"),
        (
            SPEC.replace("evals = 2000", "evals = 2000\nwallclock = 3"),
            "unknown key budget.wallclock",
        ),
        (SPEC.replace("evals = 2000", "evals = -1"), "budget.evals must be a positive integer"),
        (SPEC.replace('problem = "sphere"\n', ""), r"\[objective\] needs exactly one of"),
        (SPEC.replace('name = "ga"', 'name = "pso"'), "algorithm.name must be one of"),
        ("[objective\nproblem=", "not valid TOML"),
    ],
)
def test_bad_specs_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        planning.load(write(tmp_path, text))


def test_bad_spec_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = SPEC.replace("pop_size = 20", "pop_size = 20\npopsize = 3")
    assert main(["run", str(write(tmp_path, bad)), "-q"]) == 2
    assert "unknown key algorithm.popsize" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.toml"), "-q"]) == 2


def test_backends_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["cpp"]["available"] is True
    assert main(["backends"]) == 0
    assert "cpp" in capsys.readouterr().out


def test_a_newcomers_mistakes_exit_2_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0 and capsys.readouterr().out.startswith("chimera 0.")
    spec = write(tmp_path, SPEC)
    (tmp_path / "afile").write_text("")
    assert main(["run", str(spec), "--out", str(tmp_path / "afile"), "-q"]) == 2
    assert "afile is a file; give a folder" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "-q"]) == 0
    (out / "result.json").unlink()
    (out / "plan.json").write_text("{damaged")
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "-q"]) == 2
    assert "plan.json is damaged" in capsys.readouterr().err


def test_an_interrupted_run_says_how_to_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chimera import pipeline

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "execute", interrupted)
    out = tmp_path / "run"
    assert main(["run", str(write(tmp_path, SPEC)), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.index("predicted") < err.index("chimera: interrupted")  # the plan came first
    assert f"continue with `chimera run --resume {out}`" in err
    monkeypatch.undo()
    assert main(["report", str(out)]) == 0
    assert f"continue it with `chimera run --resume {out}`" in capsys.readouterr().out


def test_json_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = write(tmp_path, SPEC)
    code = f"import sys; from chimera.cli import main; sys.exit(main({['run', str(spec), '--out', str(tmp_path / 'r'), '--json', '-q']!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.close()  # the reader left before the run printed, as `| head -0` does
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()

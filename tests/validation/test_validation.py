"""Layer 3, validation: every violation of a plan, a module, a genome or the safety limits,
reported at once with where it is and how to fix it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from chimera import ValidationError, planning, validation
from chimera.cli import main
from chimera.discovery import discover
from chimera.validation import PlanInvalid, checks
from helpers import EXAMPLES

AGENT = (EXAMPLES / "agents" / "double_pole.wasm").resolve()


def quickstart(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = (EXAMPLES / "quickstart.toml").read_text()
    text = text.replace('"agents/double_pole.wasm"', f'"{AGENT}"')
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / "spec.toml"
    p.write_text(text)
    return p


def test_the_quickstart_is_valid(tmp_path: Path) -> None:
    checked = validation.validate(quickstart(tmp_path), probe=False)
    assert checked.plan.objective.kind == "wasm" and checked.plan.generations == 80


def test_every_violation_is_listed_with_where_and_fix(tmp_path: Path) -> None:
    spec = quickstart(
        tmp_path,
        ('backend = "auto"', 'backend = "auto"\ngpus = 3\nworkers = 10000\nmemory_gb = 1e9'),
        ("incumbent = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]", "incumbent = [0.0, 99.0, 1.0]"),
        ("generations = 80\nseconds = 50", "evals = 10"),
    )
    with pytest.raises(PlanInvalid) as info:
        validation.validate(spec, probe=False)
    where = {v.where for v in info.value.violations}
    assert where == {"resources.gpus", "resources.workers", "resources.memory_gb",
                     "refinement.deploy.incumbent", "budget.evals"}  # fmt: skip
    assert all(v.fix for v in info.value.violations)
    text = str(info.value)
    assert "5 violation(s)" in text and "3 GPU(s) asked for, 0 found" in text
    assert "has 3 values, the genome has 7 genes" in text


def test_a_wasm_agent_needs_its_safety_limits(tmp_path: Path) -> None:
    spec = quickstart(tmp_path, ("limits = { fuel = 10_000_000, timeout = 0.5, memory = 1_048_576 }",
                                 "limits = { fuel = 10_000_000 }"))  # fmt: skip
    with pytest.raises(PlanInvalid, match="no timeout, memory limit set for the agent"):
        validation.validate(spec, probe=False)
    # the rest is still checked under the default limits: every violation at once
    spec = quickstart(tmp_path, ("limits = { fuel = 10_000_000, timeout = 0.5, memory = 1_048_576 }",
                                 "limits = { fuel = -1 }"),
                      ("incumbent = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]", "incumbent = [1.0]"))  # fmt: skip
    with pytest.raises(PlanInvalid) as info:
        validation.validate(spec, probe=False)
    assert [v.where for v in info.value.violations] == [
        "objective.limits", "refinement.deploy.incumbent"]  # fmt: skip


def test_a_broken_module_is_refused_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0garbage")
    spec = quickstart(tmp_path, (f'"{AGENT}"', f'"{bad}"'))
    with pytest.raises(PlanInvalid) as info:
        validation.validate(spec, probe=False)
    assert [v.where for v in info.value.violations] == ["objective.wasm"]
    assert "not a valid WebAssembly module" in str(info.value)
    # A module without the agent ABI's exports: Layer 4's check names what is missing.
    wat = tmp_path / "empty.wat"
    wat.write_text('(module (memory (export "memory") 1))')
    found = checks.module(wat, {"fuel": 1000, "timeout": 1.0, "memory": 65536}, 5)
    assert len(found) == 1 and "chimera_abi_version" in found[0].problem


def test_resources_against_a_machine_without_gpu(tmp_path: Path) -> None:
    snap = dataclasses.replace(discover(), gpus=(), gpu_note="no NVIDIA driver",
                               cuda_usable=False)  # fmt: skip
    s = planning.load(quickstart(tmp_path, ('backend = "auto"', 'backend = "cuda"\ngpus = 1')))
    found = checks.resources(s, snap)
    assert {v.where for v in found} >= {"resources.gpus"}
    assert "0 found (no NVIDIA driver)" in str(found[0])


def test_genome_checks() -> None:
    bounds = np.array([[0.0, 1.0]] * 3)
    assert checks.genome([0.5, 0.5, 1.0], bounds, "g") == []
    assert "not finite" in checks.genome([0.5, np.nan, 1.0], bounds, "g")[0].problem
    assert "out of bounds (gene 2: 3" in checks.genome([0.5, 0.5, 3.0], bounds, "g")[0].problem
    assert "has 2 values" in checks.genome([0.5, 0.5], bounds, "g")[0].problem


def test_validate_and_plan_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = quickstart(tmp_path)
    assert main(["validate", str(good)]) == 0
    assert "valid: ga on double_pole, 80 generations, 5,120 evaluations" in capsys.readouterr().out
    assert main(["plan", str(good), "--json", "--no-probe"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["algorithm"] == "ga" and plan["generations"] == 80
    bad = quickstart(
        tmp_path, ("incumbent = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]", "incumbent = [1.0]")
    )
    assert main(["validate", str(bad), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["violations"][0]["where"] == "refinement.deploy.incumbent"
    assert main(["validate", str(bad)]) == 2
    assert "refinement.deploy.incumbent" in capsys.readouterr().err
    with pytest.raises(ValidationError):
        validation.validate(tmp_path / "missing.toml")


def test_operator_errors_are_named_by_their_own_key(tmp_path: Path) -> None:
    spec = quickstart(
        tmp_path,
        ('selection = { name = "tournament", k = 3 }', 'selection = { name = "tournament", k = 3 }'
         '\ncrossover = "nope"'),
        ('{ crossover = "uniform", mutation = { name = "gaussian", sigma = 0.02 } }',
         '{ crossover = "uniform", mutation = "nope3" }'),
        ("generations = 80\nseconds = 50", "evals = 5"),
    )  # fmt: skip
    with pytest.raises(PlanInvalid) as info:
        validation.validate(spec, probe=False)
    found = {v.where: v.problem for v in info.value.violations}
    assert "unknown crossover 'nope'" in found["algorithm"]
    assert "unknown mutation 'nope3'" in found["refinement.bandit.arms[2].mutation"]
    assert set(found) == {"algorithm", "refinement.bandit.arms[2].mutation", "budget.evals"}


def test_sense_reference_point_and_constraints(tmp_path: Path) -> None:
    def spec(text: str) -> Path:
        p = tmp_path / "s.toml"
        p.write_text(f"[objective]\n{text}\n[budget]\nevals = 1000\n")
        return p

    cases = [
        ('problem = "zdt1"\nmaximize = true', "objective.maximize", "minimise every objective"),
        ('problem = "zdt1"\nref_point = [1.0, 1.0, 1.0]', "objective.ref_point", "2 values"),
        ('problem = "sphere"\ndim = 3\nref_point = [1.0]', "objective.ref_point", "hypervolume"),
        ('callable = "chimera.problems:sphere"\ndim = 2\nbounds = [[-1, 1]]\n'
         '[algorithm]\nname = "nsga2"', "algorithm", "n_obj must be an integer in [2"),
    ]  # fmt: skip
    for text, where, message in cases:
        with pytest.raises(PlanInvalid) as info:
            validation.validate(spec(text), probe=False)
        assert [v.where for v in info.value.violations] == [where], text
        assert message in str(info.value), text


def test_validate_json_lists_spec_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[objective]\nproblem = "sphere"\n[budget]\nevals = 0\n[colour]\n')
    assert main(["validate", str(p), "--json"]) == 2
    found = json.loads(capsys.readouterr().out)["violations"]
    # the spec's problems under their keys, and what planning finds, in the same pass
    assert [v["where"] for v in found] == ["colour", "budget.evals", "objective"]
    assert "unknown section [colour]" in found[0]["problem"]
    assert "needs dim" in found[2]["problem"]


def test_constraints_are_counted_and_need_two_objectives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "constrained_fitness.py").write_text(
        "import numpy as np\n"
        "def two(X):\n"
        "    return np.stack([(X**2).sum(1), ((X - 1)**2).sum(1)], 1), 0.2 - X[:, :1]\n"
        "def one(X):\n"
        "    return (X**2).sum(1), 0.2 - X[:, :1]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    p = tmp_path / "s.toml"
    base = '[objective]\ncallable = "constrained_fitness:{f}"\ndim = 3\nbounds = [[-1, 1]]\n{n}' \
           '[budget]\nevals = 1000\n'  # fmt: skip
    p.write_text(base.format(f="two", n="n_obj = 2\n"))
    plan = validation.validate(p, probe=False).plan
    assert plan.n_constr == 1 and plan.algorithm == "nsga2"
    from chimera import pipeline  # and the run honours the constraint

    summary = pipeline.start(p, tmp_path / "run", probe=False).summary
    assert min(x[0] for x in summary["pareto_x"]) >= 0.2 - 1e-9
    p.write_text(base.format(f="one", n=""))
    with pytest.raises(PlanInvalid, match="1 constraint"):
        validation.validate(p, probe=False)


def test_a_callable_beside_the_spec_imports_and_its_shape_is_checked(tmp_path: Path) -> None:
    """No PYTHONPATH needed for a module beside the spec; what run would refuse (a scalar
    function called vectorised, two objectives without n_obj) is refused with the fix."""
    (tmp_path / "beside_spec_fitness.py").write_text(
        "import numpy as np\n"
        "def vector(X):\n    return (np.asarray(X) ** 2).sum(axis=1)\n"
        "def scalar(x):\n    return float((np.asarray(x) ** 2).sum())\n"
        "def two(X):\n    return np.stack([(X**2).sum(1), ((X - 1)**2).sum(1)], 1)\n"
    )
    spec = tmp_path / "s.toml"
    base = ('[objective]\ncallable = "beside_spec_fitness:{f}"\ndim = 3\nbounds = [[-1, 1]]\n{x}'
            '[budget]\nevals = 400\n')  # fmt: skip
    spec.write_text(base.format(f="vector", x=""))
    assert validation.validate(spec, probe=False).plan.objective.n_obj == 1
    for f, x, message in [
        ("scalar", "", "pass vectorized=False (in a spec: objective.vectorized = false)"),
        ("two", "", "for 2 objectives pass n_obj=2 (in a spec: objective.n_obj = 2)"),
    ]:
        spec.write_text(base.format(f=f, x=x))
        with pytest.raises(PlanInvalid, match=re.escape(message)):
            validation.validate(spec, probe=False)
    spec.write_text(base.format(f="scalar", x="vectorized = false\n"))
    assert validation.validate(spec, probe=False).plan.objective.n_obj == 1


def test_every_mistake_is_reported_in_one_pass_with_a_did_you_mean(tmp_path: Path) -> None:
    p = tmp_path / "six.toml"
    p.write_text(
        '[experiment]\nsed = 3\n[objective]\nproblem = "rastrign"\ndim = 0\n'
        '[algorithm]\nname = "gaa"\npop_size = 1\ncrossover = "sbxx"\n[budget]\nevals = -5\n'
        '[refinement.bandit]\npolicy = "thomson"\n'
        'arms = [{crossover = "sbx"}, {crosover = "blend", mutation = "gausian"}]\n'
    )
    with pytest.raises(PlanInvalid) as info:
        validation.validate(p, probe=False)
    found = {v.where: str(v) for v in info.value.violations}
    expected = {
        "experiment.sed": "did you mean 'seed'?",
        "objective.dim": "must be an integer >= 1, got 0",
        "objective": "did you mean 'rastrigin'?",
        "algorithm.name": "did you mean 'ga'?",
        "algorithm.pop_size": "must be an integer >= 2, got 1",
        "algorithm.crossover": "did you mean 'sbx'?",
        "budget.evals": "must be a positive integer, got -5",
        "refinement.bandit.policy": "did you mean 'thompson'?",
        "refinement.bandit.arms[1].crosover": "did you mean 'crossover'?",
        "refinement.bandit.arms[1].mutation": "did you mean 'gaussian'?",
    }
    assert set(found) == set(expected)
    for where, said in expected.items():
        assert said in found[where], (where, found[where])

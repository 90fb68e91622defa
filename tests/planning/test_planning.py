"""Layer 2, planning: the spec schema, objectives, and plans with their predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chimera import ValidationError, planning
from chimera.discovery import discover
from helpers import EXAMPLES

SPHERE = """
[objective]
callable = "chimera.problems:sphere"
dim = 4
bounds = [[-5.0, 5.0]]

[algorithm]
name = "auto"
pop_size = 20

[budget]
evals = 400
generations = 50
"""


def parse(text: str, tmp_path: Path) -> planning.Spec:
    p = tmp_path / "spec.toml"
    p.write_text(text)
    return planning.load(p)


def test_a_seed_a_run_drew_reads_back(tmp_path: Path) -> None:
    # a run without a seed draws 63 bits and records them: the spec must take them back
    assert parse("[experiment]\nseed = 9223372036854775807\n" + SPHERE, tmp_path).seed == 2**63 - 1


def test_quickstart_spec_reads_every_section() -> None:
    s = planning.load(EXAMPLES / "quickstart.toml")
    assert s.name == "quickstart" and s.seed == 42 and s.algorithm == "ga"
    assert s.objective.kind == "wasm" and Path(s.objective.target).is_file()
    assert s.objective.limits == {"fuel": 10_000_000, "timeout": 0.5, "memory": 1_048_576}
    assert s.budget.generations == 80 and s.budget.seconds == 50 and s.budget.evals is None
    assert s.bandit is not None and s.bandit.policy == "thompson" and len(s.bandit.arms) == 3
    assert s.deploy is not None and s.deploy.gate == "welch" and s.deploy.margin == 1.0
    assert s.report is True and s.output_dir == Path("runs")


def test_every_spec_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """
[objective]
problem = "sphere"
callable = "x:y"

[algorithm]
name = "ga"
popsize = 3

[budget]
evals = 0

[refinement.deploy]
canary_share = 1.5
min_samples = 9
max_samples = 4

[colour]
x = 1
"""
    with pytest.raises(ValidationError) as info:
        parse(text, tmp_path)
    message = str(info.value)
    for expected in ("unknown section [colour]", "needs exactly one of", "got problem, callable",
                     "unknown key algorithm.popsize", "budget.evals must be a positive integer",
                     "refinement.deploy.canary_share must be a number in (0, 1)",
                     "max_samples (4) must be at least min_samples (9)"):  # fmt: skip
        assert expected in message, expected


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            ("chimera.problems:sphere", "no_such_module_here:f"),
            "cannot import 'no_such_module_here'",
        ),
        (("chimera.problems:sphere", "chimera.problems:nothing"), "has no function 'nothing'"),
        (("chimera.problems:sphere", "sphere"), 'must be "module:function"'),
        (
            ("bounds = [[-5.0, 5.0]]", "bounds = [[-5.0, 5.0], [0, 1]]"),
            "2 pairs but the genome has 4",
        ),
    ],
)
def test_objective_errors_name_the_key(tmp_path: Path, change: tuple[str, str], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        planning.resolve(parse(SPHERE.replace(*change), tmp_path).objective)


def test_a_callable_objective_resolves_and_evaluates(tmp_path: Path) -> None:
    o = planning.resolve(parse(SPHERE, tmp_path).objective)
    assert o.kind == "callable" and o.dim == 4 and o.n_obj == 1
    np.testing.assert_allclose(o.problem.fun(np.ones((3, 4))), [4.0, 4.0, 4.0])
    per_row = SPHERE.replace("dim = 4", "dim = 4\nvectorized = false").replace(
        "chimera.problems:sphere", "math:fsum"
    )
    o = planning.resolve(parse(per_row, tmp_path).objective)
    np.testing.assert_allclose(o.problem.fun(np.ones((2, 4))), [4.0, 4.0])


@pytest.mark.parametrize(
    ("objective", "algorithm"),
    [('problem = "rastrigin"\ndim = 8', "cmaes"), ('problem = "rastrigin"\ndim = 1500', "lm_maes"),
     ('problem = "knapsack"\ndim = 20', "ga"), ('problem = "zdt1"', "nsga2"),
     ('problem = "dtlz2"\nn_obj = 5', "nsga3")],
)  # fmt: skip
def test_auto_picks_the_algorithm_and_says_why(tmp_path: Path, objective: str,
                                               algorithm: str) -> None:  # fmt: skip
    text = f'[objective]\n{objective}\n[algorithm]\nname = "auto"\n[budget]\nevals = 10000\n'
    plan = planning.make_plan(parse(text, tmp_path), probe_objective=False)
    assert plan.algorithm == algorithm and plan.optimizer().pop_size == plan.pop_size
    assert "objective" in plan.why["algorithm"]
    assert plan.generations == 10000 // plan.pop_size and plan.limited_by.startswith("budget.evals")


def test_a_generation_of_a_part_of_the_population_is_planned_as_such(tmp_path: Path) -> None:
    # MOEA/D's first generation is the 91 weights' solutions, each later one a batch of 10
    text = ('[objective]\nproblem = "dtlz2"\nn_obj = 3\n[algorithm]\nname = "moead"\n'
            '[budget]\nevals = 1000\n')  # fmt: skip
    plan = planning.make_plan(parse(text, tmp_path), probe_objective=False)
    assert (plan.pop_size, plan.offspring, plan.generations, plan.evals) == (91, 10, 91, 991)
    assert plan.to_dict()["offspring"] == 10 and "(pop 91, 10 a generation)" in plan.summary()
    opt = plan.optimizer()
    assert opt.batch_size == 91
    while opt.nfev + opt.batch_size <= 1000:  # as the loop's budget counts
        opt.tell(np.zeros((opt.batch_size, 3)) + opt.ask()[:, :3])
        assert opt.batch_size == 10
    assert (opt.generation, opt.nfev) == (plan.generations, plan.evals)


def test_plan_predicts_from_the_probe_each_step_of_the_loop(tmp_path: Path) -> None:
    plan = planning.make_plan(parse(SPHERE, tmp_path), snapshot=discover())
    assert plan.algorithm == "cmaes" and plan.workers == 1 and plan.backend in ("cpp", "numba")
    assert plan.generations == 20 and plan.limited_by == "budget.evals = 400"  # 400 // 20 < 50
    assert plan.seconds_per_generation is not None and plan.seconds_per_generation > 0
    assert plan.predicted_seconds is not None and plan.predicted_seconds > 0
    assert plan.predicted_cost() == {"cpu_seconds": plan.predicted_seconds, "gpu_hours": 0.0}
    # the steps the loop runs, in its order, each predicted
    assert [st.name for st in plan.steps] == ["breed", "evaluate", "commit", "checkpoint"]
    assert all(st.seconds is not None and st.seconds > 0 for st in plan.steps)
    assert sum(st.seconds or 0.0 for st in plan.steps) == pytest.approx(plan.seconds_per_generation)
    text = plan.summary()
    assert "predicted" in text and "20 generations" in text
    assert "20 x (breed -> evaluate -> commit -> checkpoint), then report" in text
    json.dumps(plan.to_dict())  # plain data


def test_a_wasm_plan_shards_evaluation_over_its_workers() -> None:
    s = planning.load(EXAMPLES / "quickstart.toml")
    plan = planning.make_plan(s, probe_objective=True)
    assert plan.objective.kind == "wasm" and plan.objective.dim == 7
    assert plan.workers in plan.model.workers  # type: ignore[union-attr]
    # random genomes drop the poles at once; one that balances spends up to its fuel limit
    assert plan.predicted_seconds is not None and plan.worst_seconds is not None
    assert 5 * plan.predicted_seconds < plan.worst_seconds <= s.budget.seconds  # type: ignore[operator]
    assert "at most" in plan.summary() and plan.to_dict()["worst_seconds"] == plan.worst_seconds
    assert plan.shards == plan.workers and "evaluates 64" in plan.why["workers"]
    assert [st.name for st in plan.steps] == ["breed", "evaluate", "decide", "commit", "serve",
                                              "checkpoint"]  # fmt: skip
    assert "then settle the canary, report" in plan.summary()

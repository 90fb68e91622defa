"""The optimizer protocol and the registry: an algorithm written here, one class and one
``register``, is available to ``minimize``, specs, ``chimera plan``, ``chimera validate`` and
``chimera run`` with no other edit; the registry's options come from the classes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import chimera
from chimera import algorithms, pipeline
from chimera.cli import main
from chimera.optimizer import Optimizer, Survival
from chimera.problems import sphere


class RandomSearch(Optimizer):
    """Uniform random search: a fresh uniform sample every generation.

    Parameters
    ----------
    pop_size : int
        Genomes sampled a generation.
    nan_policy : {"raise", "worst"}
        NaN or infinite fitness raises, or counts as the worst value.
    """

    _FORMAT = "test.RandomSearch/1"

    def __init__(self, bounds: npt.ArrayLike, *, pop_size: int = 16, seed: int | None = None,
                 nan_policy: str = "raise") -> None:  # fmt: skip
        super().__init__(bounds, pop_size=pop_size, seed=seed, nan_policy=nan_policy)

    def _breed(self) -> tuple[np.ndarray, None]:
        rng = np.random.default_rng([self.seed, self.generation])
        return rng.uniform(self.low, self.high, (self.pop_size, self.dim)), None

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        return Survival(X, F, cv, None)


@pytest.fixture
def random_search() -> Iterator[algorithms.Algorithm]:
    entry = algorithms.register("random_search", RandomSearch, "uniform random search")
    yield entry
    del algorithms.ALGORITHMS["random_search"]


SPEC = """
experiment = { seed = 3 }
objective = { problem = "sphere", dim = 4, bounds = [[-1.0, 1.0]] }
algorithm = { name = "random_search", pop_size = 20 }
budget = { evals = 400 }
output = { report = false }
"""


def test_a_registered_algorithm_runs_everywhere(
    random_search: algorithms.Algorithm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(random_search.options) == {"pop_size", "nan_policy"}
    assert random_search.options["pop_size"].default == 16
    res = chimera.minimize(sphere, [(-1, 1)] * 4, algorithm="random_search", max_evals=400,
                           pop_size=20, seed=3)  # fmt: skip
    assert res.nfev == 400 and res.algorithm == "random_search" and 0 <= res.fun < 1
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    assert main(["validate", str(spec)]) == 0
    assert (
        "valid: random_search on sphere, 20 generations, 400 evaluations" in capsys.readouterr().out
    )
    assert main(["plan", str(spec), "--no-probe"]) == 0
    assert "algorithm   random_search (pop 20): as the spec asks" in capsys.readouterr().out
    outcome = pipeline.start(spec, tmp_path / "run", probe=False)
    assert outcome.summary["fun"] == res.fun  # the same seed, the same run
    assert outcome.summary["steps"]["commit"]["calls"] == 20
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.replace("pop_size = 20", "pop_size = 20, elitism = 2"))
    assert main(["validate", str(bad)]) == 2
    assert "algorithm.elitism does not apply to random_search" in capsys.readouterr().err


def test_the_registry_reads_options_from_the_classes() -> None:
    ga = algorithms.get("GA")
    assert ga.cls is chimera.GA and ga.operators == ("selection", "crossover", "mutation")
    assert ga.options["elitism"].default is None and "compete" in ga.options["elitism"].doc
    assert "seed" not in ga.options and "maximize" in ga.parameters
    nsga3 = algorithms.get("nsga3")
    assert nsga3.multi_objective and nsga3.constraints and nsga3.options["pop_size"].default is None
    # sizes from the class, without building an optimizer
    assert (
        nsga3.population_size({}, 3) == 92 and nsga3.population_size({"n_partitions": 4}, 3) == 16
    )
    assert ga.population_size({}) == 100 and ga.population_size({"pop_size": 8}) == 8
    for name, cls in (("ga", chimera.GA), ("nsga2", chimera.NSGA2), ("nsga3", chimera.NSGA3)):
        assert algorithms.get(name).options.keys() <= set(cls.__init__.__code__.co_varnames)


def test_registry_refusals(random_search: algorithms.Algorithm) -> None:
    with pytest.raises(chimera.ValidationError, match=r"unknown algorithm 'pso'.*choose one of ga"):
        algorithms.get("pso")
    with pytest.raises(chimera.ValidationError, match="is taken"):
        algorithms.register("ga", RandomSearch, "again")
    with pytest.raises(chimera.ValidationError, match="not an Optimizer"):
        algorithms.register("dict", dict, "no")  # type: ignore[arg-type]
    with pytest.raises(chimera.ValidationError, match="has no option 'elitism'"):
        algorithms.create("random_search", [(0, 1)], elitism=3)
    with pytest.raises(chimera.ValidationError, match="single-objective but n_obj=2; use nsga2"):
        algorithms.create("random_search", [(0, 1)], n_obj=2)

    class Undocumented(Optimizer):
        """No parameters documented."""

        def __init__(self, bounds: npt.ArrayLike, *, pop_size: int = 4, seed: int | None = None,
                     nan_policy: str = "raise") -> None:  # fmt: skip
            super().__init__(bounds, pop_size=pop_size, seed=seed, nan_policy=nan_policy)

        _breed, _survive = RandomSearch._breed, RandomSearch._survive

    with pytest.raises(chimera.ValidationError, match="does not document pop_size, nan_policy"):
        algorithms.register("undocumented", Undocumented, "no")
    for name, summary, match in [(None, "s", "must be an identifier"), (5, "s", "identifier"),
                                 ("newrs", None, "summary must say"),
                                 ("newrs", " ", "summary must say")]:  # fmt: skip
        with pytest.raises(chimera.ValidationError, match=match):
            algorithms.register(name, RandomSearch, summary)  # type: ignore[arg-type]

    class Sized(RandomSearch):
        """A random search of a fixed size."""

        def __init__(self, bounds: npt.ArrayLike, seed: int | None = None) -> None:
            super().__init__(bounds, pop_size=8, seed=seed)

    with pytest.raises(chimera.ValidationError, match="has no pop_size: override population_size"):
        algorithms.register("sized", Sized, "fixed size")
    Sized.population_size = classmethod(lambda cls, options, n_obj=1, dim=None: 8)  # type: ignore[assignment]
    sized = algorithms.register("sized", Sized, "fixed size")
    try:  # a positional-or-keyword option is an option too
        assert list(sized.parameters) == ["seed"] and sized.population_size({}) == 8
    finally:
        del algorithms.ALGORITHMS["sized"]

    class Hidden(RandomSearch):
        """Options hidden in **options."""

        def __init__(self, bounds: npt.ArrayLike, **options: object) -> None:
            super().__init__(bounds, **options)  # type: ignore[arg-type]

    with pytest.raises(chimera.ValidationError, match="must name its options, not take"):
        algorithms.register("hidden", Hidden, "hidden")


def test_validation_refuses_what_an_algorithm_cannot_do(
    random_search: algorithms.Algorithm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sense, a genome type or constraints the algorithm does not take are violations."""
    from chimera.validation import PlanInvalid, validate

    (tmp_path / "constrained_sphere.py").write_text(
        "def f(X):\n    return (X**2).sum(1), 0.2 - X[:, :1]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cases = [
        ('objective = { problem = "sphere", dim = 4, bounds = [[-1.0, 1.0]], maximize = true }',
         "objective.maximize: random_search only minimises"),
        ('objective = { problem = "onemax", dim = 8 }', "random_search evolves float64 genomes"),
        ('objective = { callable = "constrained_sphere:f", bounds = [[-1.0, 1.0]], '
         'dim = 3 }', "random_search does not rank by constraints (those that do: nsga2, nsga3, sms_emoa)"),
    ]  # fmt: skip
    for objective, message in cases:
        spec = tmp_path / "spec.toml"
        spec.write_text(SPEC.replace(SPEC.splitlines()[2], objective))
        with pytest.raises(PlanInvalid, match=re.escape(message)):
            validate(spec, probe=False)


def test_every_algorithm_shares_the_protocol() -> None:
    rs = RandomSearch([(-1, 1)] * 3, pop_size=8, seed=0)
    with pytest.raises(chimera.StateError, match="pending ask"):
        rs.tell(np.zeros(8))
    X = rs.ask()
    assert rs.ask() is X and rs.parents is None
    with pytest.raises(chimera.ValidationError, match="need algorithm 'nsga2' or 'nsga3'"):
        rs.tell(sphere(X), np.zeros((8, 1)))
    with pytest.raises(chimera.ValidationError, match="no crossover operator"):
        rs.set_operators(crossover="sbx")
    rs.tell(sphere(X))
    state = rs.state_dict()
    again = RandomSearch([(-1, 1)] * 3, pop_size=8, seed=0)
    again.load_state_dict(state)
    for opt in (rs, again):
        opt.tell(sphere(opt.ask()))
    assert rs.best_f == again.best_f and rs.generation == again.generation == 2
    np.testing.assert_array_equal(rs.pareto_x, again.pareto_x)
    assert rs.pareto_f.shape == (1, 1) and rs.pareto_f[0, 0] == rs.fitness.min()  # type: ignore[union-attr]

"""chimera.report: the summary, plots and report.html of a run folder, complete or not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chimera import ValidationError, pipeline, report
from chimera.pipeline import folder
from helpers import AGENTS

CARTPOLE = AGENTS / "cartpole.wasm"

# A small cart-pole run whose operators a bandit picks and whose champions are canaried.
CART_SPEC = f"""
[experiment]
name = "cart <pole> & co"
seed = 7
[objective]
wasm = "{CARTPOLE}"
bounds = [[-10.0, 10.0]]
limits = {{ fuel = 1_000_000, timeout = 1.0, memory = 1_048_576 }}
[algorithm]
name = "ga"
pop_size = 16
[budget]
generations = 12
[refinement.bandit]
policy = "thompson"
arms = [{{crossover = "sbx", mutation = "polynomial"}}, {{crossover = "blend", mutation = "gaussian"}}]
[refinement.deploy]
incumbent = [0.0, 0.0, 1.0, 0.0, 0.0]
every = 3
min_samples = 5
episodes = 8
[output]
report = false
"""

ZDT_SPEC = """
[experiment]
name = "zdt1"
seed = 3
[objective]
problem = "zdt1"
ref_point = [1.0, 1.0]
[algorithm]
name = "nsga2"
pop_size = 40
[budget]
evals = 800
[output]
report = false
"""

PLOTS = ("convergence.png", "operators.png", "deployment.png")


def _run(tmp: Path, text: str) -> Path:
    spec = tmp / "spec.toml"
    spec.write_text(text, encoding="utf-8")
    return pipeline.start(spec, tmp / "run", probe=False).run_dir


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("cartpole"), CART_SPEC)


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"\x89PNG") and len(data) > 5000


def test_a_bandit_and_deploy_run_reports_its_arms_and_canaries(cartpole: Path,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "out"
    text, written = report.write(cartpole, out)
    assert [p.name for p in written] == [*PLOTS, folder.REPORT]
    assert all(_is_png(out / name) for name in PLOTS)
    assert not (out / "pareto.png").exists() and not (cartpole / folder.REPORT).exists()
    assert "complete: 12 generations" in text and "best " in text
    assert "arm 0 (sbx + polynomial)" in text and "arm 1 (blend + gaussian)" in text
    assert "thompson bandit over 2 arms" in text
    steps = next(line for line in text.splitlines() if line.startswith("steps"))
    assert all(f"{step} " in steps for step in ("breed", "evaluate", "decide", "serve"))
    deployment = next(line for line in text.splitlines() if line.startswith("deployment"))
    assert "incumbent" in deployment and "canaries" in deployment
    # a version is named by what it is, and a verdict gives its numbers
    assert "'s champion, fitness " in deployment
    page = (out / folder.REPORT).read_text(encoding="utf-8")
    assert "KPIs (mean " in page and "Welch t-test" in page
    assert "lower is better" in page  # what the fitness is, and which way is better
    assert all(f'<img src="{name}"' in page for name in PLOTS)
    assert "cart &lt;pole&gt; &amp; co" in page and "<pole>" not in page
    assert "Canary verdicts" in page
    # each canary's training fitness against what it served, beside the served KPIs
    assert "fitness in training against the mean served_fitness the gate judged it by" in page


def test_a_two_objective_run_plots_its_front(tmp_path: Path) -> None:
    run = _run(tmp_path, ZDT_SPEC)
    text, written = report.write(run)
    assert [p.name for p in written] == ["convergence.png", "pareto.png", folder.REPORT]
    assert _is_png(run / "pareto.png") and (run / folder.REPORT).is_file()
    assert "Pareto points" in text and "non-dominated of 800 stored genomes" in text
    assert "operators" not in text and "deployment" not in text
    page = (run / folder.REPORT).read_text(encoding="utf-8")
    # the true front on top, the final front apart, IGD to it and the best hypervolume
    assert "the final population&#x27;s front (red rings)" in page and "IGD of the final" in page
    assert "(dashed: the true front&#x27;s, 0.66" in page


@pytest.mark.parametrize("written_at_end", [(folder.RESULT,),
                                            (folder.RESULT, folder.OPERATORS, folder.KPIS,
                                             folder.DEPLOYMENTS)])  # fmt: skip
def test_an_incomplete_run_reports_what_it_has(cartpole: Path, tmp_path: Path,
                                               written_at_end: tuple[str, ...]) -> None:  # fmt: skip
    run = tmp_path / "killed"
    shutil.copytree(cartpole, run)
    for name in written_at_end:
        (run / name).unlink()
    text, written = report.write(run)
    assert "incomplete: 12 generations recorded so far" in text
    last = next(line for line in text.splitlines() if line.startswith("last "))
    assert "generation 12, 192 evaluations" in last and "result" not in text
    assert (run / "convergence.png").is_file() and written[-1] == run / folder.REPORT
    assert ((run / "operators.png").exists()) == (folder.OPERATORS not in written_at_end)


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a Chimera run folder"):
        report.write(tmp_path)


def test_headline() -> None:
    common = {"nfev": 1200, "ngen": 12, "elapsed_s": 0.5, "backend": "cpp"}
    line = report.headline({**common, "fun": 1.5, "optimum": None})
    assert line == "best 1.5 after 1,200 evaluations, 12 generations, 0.50 s on the cpp backend"
    assert "(optimum 0.0)" in report.headline({**common, "fun": 1e-3, "optimum": 0.0})
    multi = {**common, "pareto_f": [[0, 1], [1, 0]], "hypervolume": 0.75, "ref_point": [1, 1]}
    assert report.headline(multi).startswith("2 Pareto points, hypervolume 0.75 (ref [1, 1])")

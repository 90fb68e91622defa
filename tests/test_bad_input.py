"""Bad input at the public boundary: refused up front with a ChimeraError that names the
argument and the fix, before anything is allocated or stored."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import chimera
from chimera import ValidationError, problems
from chimera._validate import physical_memory
from chimera.evolution.operators import SBX, Gaussian, Polynomial, Tournament, Truncation
from chimera.execution import ArtifactStore, Deployment

BOX = [(-1.0, 1.0)] * 2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # sizes that cannot fit, refused with the size they would need
        (lambda: chimera.GA([(0, 1)] * 1000, pop_size=2**31 - 1), r"pop_size=2147483647 of 1000 genes would need [\d,.]+ GiB"),
        (lambda: problems.get("sphere", dim=10**11), r"a problem of dim 100000000000 would need [\d,.]+ GiB"),
        (lambda: Tournament(k=10**9), r"tournament size k must be an integer in \[1, 65536\]"),
        # bounds whose range the genome's type cannot hold
        (lambda: chimera.GA([(-1e308, 1e308)] * 2, pop_size=4), "span more than float64 can hold"),
        (lambda: chimera.GA([(-1e39, 1e39)], pop_size=4, dtype="float32"), "or use dtype float64"),
        (lambda: chimera.GA([(-1e39, 1.0)], pop_size=4, dtype="float32"), "span more than float32"),
        (lambda: chimera.GA([(0, 10**400)], pop_size=4), "int too large to convert to float"),
        # operator parameters that are not finite numbers
        (lambda: Gaussian(sigma=float("inf")), "gaussian sigma must be a finite number > 0"),
        (lambda: SBX(eta=float("nan")), "SBX eta must be a finite number >= 0"),
        (lambda: Polynomial(eta=True), "polynomial eta must be a finite number"),
        (lambda: Truncation(fraction=0.0), r"truncation fraction must be a finite number in \(0, 1\]"),
        (lambda: Gaussian(rate=1.5), r"gaussian mutation rate \(a probability\) must be"),
        (lambda: chimera.GA(BOX, pop_size=4, maximize="no"), "maximize must be True or False"),
        # arrays of the wrong shape given to a problem
        (lambda: problems.sphere(np.zeros((2, 2, 2))), r"X must be an \(n, dim\) array"),
        (lambda: problems.rastrigin("abc"), "X must be an .* array of numbers"),
        (lambda: problems.onemax(np.zeros((3, 0))), r"dim >= 1 .* got shape \(3, 0\)"),
        # what a deployment or an artifact is
        (lambda: Deployment(None), "incumbent must be a version id"),
        (lambda: Deployment("v1", canary_share=True), "canary_share must be in"),
    ],
)  # fmt: skip
def test_refused_at_the_boundary(call, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call()


def test_an_artifact_is_bytes_or_a_path(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    for module, match in [(4096, "module must be the .wasm bytes or a path"),
                          (tmp_path / "missing.wasm", "cannot read the module")]:  # fmt: skip
        with pytest.raises(ValidationError, match=match):
            store.put(module, np.zeros(2))
    with pytest.raises(ValidationError, match="genome must be numbers"):
        store.put(b"\0asm", ["a", "b"])
    assert not [p for p in (tmp_path / "artifacts").iterdir() if not p.name.startswith(".")]


def test_a_size_that_fits_is_not_refused() -> None:
    assert physical_memory() > 2**30
    assert chimera.GA([(0, 1)] * 10, pop_size=2**16).pop_size == 2**16
    assert problems.get("sphere", dim=10**6).bounds.shape == (10**6, 2)


@pytest.mark.parametrize("value", ["0", "abc", "99999999", "-2"])
def test_a_bad_thread_count_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIMERA_NUM_THREADS", value)
    with pytest.raises(ValidationError, match=rf"CHIMERA_NUM_THREADS must be .* got '{value}'"):
        chimera.minimize(problems.sphere, BOX, max_evals=40, pop_size=10, seed=0)
    for n in (0, 10**9, 2.5):
        with pytest.raises(ValidationError, match="number of threads must be"):
            chimera.set_num_threads(n)  # type: ignore[arg-type]


def test_damaged_files_are_named_not_tracebacks(tmp_path: Path) -> None:
    from chimera import kpi
    from chimera.evolution.store import GenomeStore

    (tmp_path / "bad.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValidationError, match="is not a Chimera genome store"):
        GenomeStore(tmp_path / "bad.sqlite")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(ValidationError, match="not a readable KPI Parquet file"):
        kpi.read(tmp_path / "bad.parquet")
    store = ArtifactStore(tmp_path / "artifacts")
    key = store.put(b"\0asm\1\0\0\0", np.zeros(2))
    (tmp_path / "artifacts" / key / "genome.json").write_text("{not json")
    with pytest.raises(ValidationError, match=f"artifact {key} in .* is damaged"):
        store.get(key)


def test_damaged_state_dicts_are_refused_and_change_nothing() -> None:
    from chimera.refinement import bandits

    ga = chimera.GA(BOX, pop_size=4, seed=0)
    ga.tell(problems.sphere(ga.ask()))
    good = ga.state_dict()
    for change, match in [({"nfev": -5}, "counter nfev must be a non-negative integer"),
                          ({"generation": None}, "counter generation"),
                          ({"config": None}, "config must be a dict"),
                          ({"best_f": float("nan")}, "best_f is NaN"),
                          ({"survivors": np.full(4, 99)}, r"survivors must be rows in \[0, 8\)"),
                          ({"population": [["a", "b"]] * 4}, "population is not an array")]:  # fmt: skip
        fresh = chimera.GA(BOX, pop_size=4, seed=0)
        with pytest.raises(ValidationError, match=match):
            fresh.load_state_dict(good | change)
        assert fresh.generation == 0 and fresh.population is None
    for backend in ("cpp", "numba"):
        b = bandits.ThompsonSampling(3, seed=0, backend=backend)
        b.update(0, 1.0)
        state = b.state_dict()
        for key, value, match in [("pulls", [np.nan, 0, 0], "pulls must hold finite numbers"),
                                  ("pulls", [-1.0, 0, 0], "pulls must be >= 0"),
                                  ("sums", [2.0, 0, 0], r"sums must lie in \[0, pulls\]"),
                                  ("active", [2, 1, 1], "active must hold 0 or 1"),
                                  ("updates", 1.5, "updates must be an integer")]:  # fmt: skip
            bad = state | {"state": state["state"] | {key: np.asarray(value)}}
            fresh = bandits.ThompsonSampling(3, seed=0, backend=backend)
            with pytest.raises(ValidationError, match=match):
                fresh.load_state_dict(bad)
            assert fresh.state_dict()["state"]["updates"] == 0


def test_what_is_valid_stays_valid() -> None:
    """Refusals that went too far once (a review found each)."""
    from chimera.refinement import bandits, patterns

    edge = float(np.finfo(np.float32).max)  # both ends fit float32; genes are drawn in double
    assert (
        chimera.GA([(-edge, edge)] * 2, pop_size=4, dtype="float32", seed=0).ask().dtype
        == np.float32
    )
    assert Deployment("v1", canary_share=np.float32(0.25)).canary_share == pytest.approx(0.25)
    assert patterns.CUSUM(mean=np.array(0.5), std=1.0).mean == 0.5
    for backend in ("cpp", "numba"):
        assert len(bandits.UCB1(3, seed=0, backend=backend).select(np.int64(4))) == 4
        linear = bandits.LinUCB(3, dim=2, seed=0, backend=backend)
        assert len(linear.select(np.int64(2), context=np.ones((2, 2)))) == 2
        with pytest.raises(ValidationError, match="n=1099511627776 decisions would need"):
            bandits.UCB1(3, seed=0, backend=backend).select(2**40)


def test_a_module_beside_the_spec_is_its_own(tmp_path: Path) -> None:
    """Two specs with a fitness.py each get their own; a file named like an installed module
    is refused rather than shadowing it; a module that needs a missing package says so."""
    from chimera.planning import load
    from chimera.planning.objective import resolve

    spec = '[objective]\ncallable = "{m}:f"\ndim = 2\nbounds = [[-1, 1]]\n[budget]\nevals = 100\n'
    for name, body in [("e1", "1.0"), ("e2", "2.0"), ("js", None), ("needs", None)]:
        (tmp_path / name).mkdir()
        module = {"js": "json", "needs": "beside_needs"}.get(name, "beside_fitness")
        code = (f"import numpy as np\ndef f(X):\n    return np.full(len(X), {body})\n" if body
                else "import not_a_module_anywhere\n" if name == "needs" else "def f(X): pass\n")  # fmt: skip
        (tmp_path / name / f"{module}.py").write_text(code)
        (tmp_path / name / "spec.toml").write_text(spec.format(m=module))
    for name, value in [("e1", 1.0), ("e2", 2.0), ("e1", 1.0)]:
        fun = resolve(load(tmp_path / name / "spec.toml").objective).problem.fun
        assert fun(np.zeros((2, 2))).tolist() == [value, value]
    assert not [p for p in sys.path if str(tmp_path) in p]  # on the path only while importing
    with pytest.raises(ValidationError, match="has the name of an installed module"):
        resolve(load(tmp_path / "js" / "spec.toml").objective)
    with pytest.raises(ValidationError, match=r"needs 'not_a_module_anywhere'.*install it"):
        resolve(load(tmp_path / "needs" / "spec.toml").objective)

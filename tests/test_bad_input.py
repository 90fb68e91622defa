"""Bad input at the public boundary: refused up front with a ChimeraError that names the
argument and the fix, before anything is allocated or stored."""

from __future__ import annotations

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

"""BatchCMAES: run 0 is CMAES's run, every run samples its documented rows, checkpoints resume
bit for bit, the box holds, and bad input is refused with the batch still usable."""

from __future__ import annotations

import numpy as np
import pytest

import reference_es
from chimera._errors import FitnessError, StateError, ValidationError
from chimera.strategies import CMAES, BatchCMAES
from chimera.strategies.batch import box_map

BOX = [(-5.0, 5.0)]


def ellipsoid(X: np.ndarray) -> np.ndarray:
    n = X.shape[-1]
    return (10 ** (6 * np.arange(n) / (n - 1)) * X**2).sum(axis=-1)


def sphere(X: np.ndarray) -> np.ndarray:
    return (X**2).sum(axis=-1)


@pytest.mark.parametrize("n", [3, 8, 20])
def test_the_first_run_is_cmaes_without_restarts(n: int) -> None:
    batch = BatchCMAES(BOX * n, 3, seed=11)
    es = CMAES(BOX * n, seed=11, restarts="none")
    for g in range(80):
        Xb, X = batch.ask(), es.ask()
        np.testing.assert_allclose(Xb[0], X, rtol=1e-9, atol=1e-12, err_msg=f"generation {g}")
        batch.tell(ellipsoid(Xb))
        es.tell(ellipsoid(X))
    np.testing.assert_allclose(batch.mean[0], es.mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(batch.C[0], es._model.C, rtol=1e-8, atol=1e-14)
    assert batch.sigma[0] == pytest.approx(es.sigma, rel=1e-9)


def test_each_run_samples_its_rows_of_the_stream() -> None:
    n, lam, b = 5, 7, 4
    x0 = np.linspace(-1, 1, n)
    batch = BatchCMAES([(-1e6, 1e6)] * n, b, pop_size=lam, seed=5, sigma0=0.3, x0=x0)
    X = batch.ask()
    Z = reference_es.standard_normal(5, 0, b * lam, n).reshape(b, lam, n)
    np.testing.assert_allclose(X, x0 + 0.3 * Z, rtol=0, atol=1e-15)  # C = I at first
    assert X.shape == (b, lam, n)


def test_all_runs_solve_the_sphere_and_then_stop() -> None:
    batch = BatchCMAES(BOX * 6, 16, seed=2)
    for _ in range(2000):
        batch.tell(sphere(batch.ask()))
        if batch.stopped.all():
            break
    assert batch.stopped.all()
    assert (batch.best_f < 1e-18).all()
    assert np.allclose(sphere(batch.best_x), batch.best_f)
    assert batch.nfev == batch.generation * 16 * batch.pop_size


def test_resume_from_a_checkpoint_is_bit_identical() -> None:
    def run(stop_at: int | None) -> np.ndarray:
        batch = BatchCMAES(BOX * 7, 5, seed=9)
        for g in range(40):
            X = batch.ask()
            if g == stop_at:  # a checkpoint between ask and tell, restored in a new object
                state = batch.state_dict()
                batch = BatchCMAES(BOX * 7, 5, seed=9)
                batch.load_state_dict(state)
                np.testing.assert_array_equal(batch.ask(), X)
            batch.tell(ellipsoid(X))
        return np.concatenate([batch.mean.ravel(), batch.C.ravel(), batch.sigma])

    np.testing.assert_array_equal(run(None), run(17))


def test_points_stay_in_the_box() -> None:
    batch = BatchCMAES([(0.0, 1.0)] * 4, 8, seed=1, sigma0=3.0)  # steps far wider than the box
    for _ in range(30):
        X = batch.ask()
        assert ((X >= 0.0) & (X <= 1.0)).all()
        batch.tell(sphere(X - 2.0))  # the optimum outside: the runs press on a corner


@pytest.mark.parametrize("seed", range(3))
def test_the_array_box_map_is_the_kernels(seed: int) -> None:
    Y, mean, sigma, low, high, al, au = reference_es.box_case(seed)
    want = reference_es.box_transform(Y, mean, sigma, low, high, al, au)
    np.testing.assert_array_equal(box_map(np, mean + sigma * Y, low, high, al, au), want)


def test_bad_input_is_refused_and_the_batch_still_works() -> None:
    with pytest.raises(ValidationError, match="batch"):
        BatchCMAES(BOX * 3, 0)
    with pytest.raises(ValidationError, match="x0"):
        BatchCMAES(BOX * 3, 2, x0=[9.0, 0.0, 0.0])
    with pytest.raises(ValidationError, match="x0"):
        BatchCMAES(BOX * 3, 2, x0=np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="sigma0"):
        BatchCMAES(BOX * 3, 2, sigma0=0.0)
    batch = BatchCMAES(BOX * 3, 2, seed=4)
    with pytest.raises(StateError, match="ask"):
        batch.tell(np.zeros((2, batch.pop_size)))
    X = batch.ask()
    with pytest.raises(FitnessError, match="shape"):
        batch.tell(np.zeros(batch.pop_size))
    with pytest.raises(FitnessError, match="NaN"):
        batch.tell(np.full((2, batch.pop_size), np.nan))
    before = batch.state_dict()
    with pytest.raises(ValidationError, match="batch"):
        batch.load_state_dict({**before, "batch": 3})
    with pytest.raises(ValidationError, match="mean"):
        batch.load_state_dict({**before, "mean": np.zeros(3)})
    np.testing.assert_array_equal(batch.ask(), X)  # the refused calls changed nothing
    batch.tell(sphere(X))
    assert batch.generation == 1


def test_a_start_point_for_every_run() -> None:
    x0 = np.array([[1.0, 2.0], [-3.0, 0.5]])
    batch = BatchCMAES(BOX * 2, 2, x0=x0, seed=0)
    np.testing.assert_array_equal(batch.mean, x0)
    default = BatchCMAES(BOX * 2, 2, seed=0)
    es = CMAES(BOX * 2, seed=0, restarts="none")
    np.testing.assert_array_equal(default.mean[0], es.mean)  # run 0 starts where CMAES does
    assert not np.array_equal(default.mean[0], default.mean[1])


class _ArrayModule:
    """NumPy under another name: the batch takes the path it takes for CuPy's arrays (no
    kernels on them, the box transform in array operations)."""

    def __getattr__(self, name: str) -> object:
        return getattr(np, name)


def test_the_array_module_path_is_the_kernel_path() -> None:
    def run(xp: object) -> np.ndarray:
        batch = BatchCMAES([(0.0, 1.0)] * 5, 4, seed=8, sigma0=0.8, xp=xp)
        for _ in range(25):
            X = batch.ask()
            batch.tell(sphere(X - 0.9))
        return np.concatenate([batch.mean.ravel(), batch.C.ravel(), batch.best_f])

    np.testing.assert_array_equal(run(_ArrayModule()), run(None))


def test_a_stopped_run_keeps_its_distribution() -> None:
    batch = BatchCMAES(BOX * 4, 3, seed=6, tolx=1e-3)  # run 0 stops early on its own
    while not batch.stopped.any():
        batch.tell(sphere(batch.ask()))
    i = int(np.flatnonzero(batch.stopped)[0])
    frozen = [a[i].copy() for a in (batch.mean, batch.C, batch.B, batch.D, batch.sigma)]
    for _ in range(10):
        batch.tell(sphere(batch.ask()) * (1 + np.arange(batch.pop_size)))
    for before, now in zip(frozen, (batch.mean, batch.C, batch.B, batch.D, batch.sigma),
                           strict=True):  # fmt: skip
        np.testing.assert_array_equal(now[i], before)


def test_checkpoints_of_another_box_or_with_bad_values_are_refused() -> None:
    batch = BatchCMAES(BOX * 3, 2, seed=1)
    batch.tell(sphere(batch.ask()))
    state = batch.state_dict()
    other = BatchCMAES([(100.0, 101.0)] * 3, 2, seed=1)
    with pytest.raises(ValidationError, match="bounds"):
        other.load_state_dict(state)
    for bad in ({"D": np.zeros((2, 3))}, {"sigma": -np.ones(2)}, {"decomposed_at": 10**6}):
        with pytest.raises(ValidationError):
            batch.load_state_dict({**state, **bad})
    np.testing.assert_array_equal(batch.state_dict()["C"], state["C"])  # nothing changed

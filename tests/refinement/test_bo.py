"""Bayesian optimisation: mixed-space encoding, ask/tell semantics, seeded repeatability,
batch proposals, progress on smooth functions, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chimera import StateError, ValidationError
from chimera.refinement.bo import BayesianOptimizer, Categorical, Integer, Real

FAST = {"n_candidates": 256, "n_polish": 1}


def quadratic(p: dict) -> float:
    return (p["x"] - 0.3) ** 2 + (p["y"] + 0.2) ** 2


def test_dimensions_encode_and_decode() -> None:
    r, lr, i, c = Real(-1, 3), Real(1e-4, 1e-1, log=True), Integer(2, 5), Categorical(list("abc"))
    assert r.decode(np.array(r.encode(2.0))) == pytest.approx(2.0)
    assert lr.encode(1e-2) == [pytest.approx(2 / 3)]
    assert lr.decode(np.array([0.5])) == pytest.approx(math.sqrt(1e-5))
    assert [i.decode(np.array(i.encode(k))) for k in range(2, 6)] == [2, 3, 4, 5]
    assert i.decode(np.array([1.0])) == 5 and i.decode(np.array([0.0])) == 2
    assert c.encode("b") == [0, 1, 0] and c.decode(np.array([0.1, 0.2, 0.9])) == "c"


def test_a_smooth_function_is_minimised() -> None:
    bo = BayesianOptimizer({"x": Real(-1, 1), "y": Real(-1, 1)}, seed=0, **FAST)
    for _ in range(20):
        p = bo.ask()
        bo.tell(p, quadratic(p))
    params, value = bo.best
    assert value < 1e-3 and params["x"] == pytest.approx(0.3, abs=0.05)


@pytest.mark.slow
def test_branin_reaches_its_minimum() -> None:
    def branin(x: float, y: float) -> float:
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10

    bo = BayesianOptimizer({"x": Real(-5, 10), "y": Real(0, 15)}, seed=1, n_candidates=512)
    for _ in range(40):
        p = bo.ask()
        bo.tell(p, branin(**p))
    assert bo.best[1] < 0.41  # the minimum is 0.397887


def test_maximize_and_mixed_spaces() -> None:
    space = {
        "lr": Real(1e-4, 1.0, log=True),
        "layers": Integer(1, 8),
        "act": Categorical(["relu", "tanh"]),
    }

    def score(p: dict) -> float:
        return -abs(math.log10(p["lr"]) + 2) - abs(p["layers"] - 5) + (p["act"] == "tanh")

    bo = BayesianOptimizer(space, maximize=True, seed=2, **FAST)
    for _ in range(8):
        batch = bo.ask(3)
        bo.tell(batch, [score(p) for p in batch])
    params, value = bo.best
    assert value > -1.0 and params["act"] == "tanh" and isinstance(params["layers"], int)


def test_seeded_runs_repeat_and_ask_waits_for_tell() -> None:
    def run() -> list[dict]:
        bo = BayesianOptimizer({"x": Real(-1, 1), "y": Real(-1, 1)}, seed=5, **FAST)
        asked = []
        for _ in range(10):
            p = bo.ask()
            assert bo.ask() == p  # the same until told
            asked.append(p)
            bo.tell(p, quadratic(p))
        return asked

    assert run() == run()


def test_batches_are_distinct_and_spread() -> None:
    bo = BayesianOptimizer({"x": Real(-1, 1), "y": Real(-1, 1)}, seed=3, n_initial=6, **FAST)
    batch = bo.ask(6)
    bo.tell(batch, [quadratic(p) for p in batch])
    batch = bo.ask(4)  # from the model, by the constant liar
    xs = np.array([[p["x"], p["y"]] for p in batch])
    gaps = np.linalg.norm(xs[:, None] - xs[None, :], axis=2)[np.triu_indices(4, 1)]
    assert gaps.min() > 1e-3


def test_bad_input_is_refused_and_nothing_is_stored() -> None:
    bo = BayesianOptimizer({"x": Real(0, 1), "k": Integer(0, 3)}, seed=0)
    with pytest.raises(StateError, match="nothing has been told"):
        _ = bo.best
    good = {"x": 0.5, "k": 1}
    cases = [
        (lambda: bo.tell([good, good], [1.0]), "one number per set of params"),
        (lambda: bo.tell(good, float("nan")), "finite"),
        (lambda: bo.tell({"x": 0.5}, 1.0), "missing"),
        (lambda: bo.tell({"x": 0.5, "k": 1, "z": 0}, 1.0), "unknown"),
        (lambda: bo.tell({"x": 2.0, "k": 1}, 1.0), "outside"),
        (lambda: bo.tell([good, {"x": 0.1, "k": 1.5}], [1.0, 2.0]), "not an integer"),
        (lambda: bo.ask(0), r"n must be an integer in \[1, 256\]"),
    ]
    for call, match in cases:
        with pytest.raises(ValidationError, match=match):
            call()
    assert bo.n_told == 0
    for make, match in [
        (lambda: Real(1, 1), "low < high"),
        (lambda: Real(0, 1, log=True), "low > 0"),
        (lambda: Integer(0.5, 3), "integers"),
        (lambda: Categorical(["a"]), "two or more"),
        (lambda: BayesianOptimizer({}), "non-empty"),
        (lambda: BayesianOptimizer({"x": (0, 1)}), "Real, Integer or Categorical"),
        (lambda: BayesianOptimizer({"x": Real(0, 1)}, acquisition="pi"), "acquisition"),
    ]:
        with pytest.raises(ValidationError, match=match):
            make()


def test_lower_confidence_bound() -> None:
    bo = BayesianOptimizer(
        {"x": Real(-1, 1), "y": Real(-1, 1)}, acquisition="lcb", n_initial=5, seed=4, **FAST
    )
    for _ in range(12):
        p = bo.ask()
        bo.tell(p, quadratic(p))
    assert bo.best[1] < 0.05

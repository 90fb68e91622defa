"""The Tuner: it finds the best settings, minimises from KPI tables, refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError, kpi
from chimera.refinement import Integer, Real, Tuner


def conversion(p: dict) -> float:
    """A KPI that peaks at layout 'b', discount 0.3 and depth 4."""
    base = {"a": 0.2, "b": 0.5, "c": 0.3}[p["layout"]]
    return base - (p["discount"] - 0.3) ** 2 - 0.01 * (p["depth"] - 4) ** 2


def test_tuner_finds_the_best_settings() -> None:
    tuner = Tuner(
        {"layout": ["a", "b", "c"], "discount": Real(0.0, 1.0), "depth": Integer(1, 8)},
        objective="conversion", seed=3,
    )  # fmt: skip
    for _ in range(40):
        p = tuner.suggest()
        tuner.observe(p, {"conversion": conversion(p), "latency": 120.0})
    params, value = tuner.best
    assert params["layout"] == "b" and value > 0.45
    layouts = [p["layout"] for p, _ in tuner.history[-15:]]
    assert layouts.count("b") >= 10  # the bandit settles on the best choice


def test_tuner_minimises_from_kpi_tables() -> None:
    tuner = Tuner({"cache": [16, 64, 256]}, objective="latency", maximize=False, seed=0)
    truth = {16: 90.0, 64: 40.0, 256: 60.0}
    rng = np.random.default_rng(0)
    for _ in range(60):
        p = tuner.suggest()
        batch = [{"agent_id": "x", "version": "1", "metric": "latency",
                  "value": truth[p["cache"]] + rng.normal(0, 5)} for _ in range(3)]  # fmt: skip
        tuner.observe(p, kpi.records(batch))
    assert [p["cache"] for p, _ in tuner.history[-20:]].count(64) >= 15


def test_tuner_bad_input() -> None:
    tuner = Tuner({"k": [1, 2], "x": Real(0, 1)}, objective="score", seed=0)
    p = tuner.suggest()
    for kpis, match in [
        ({"other": 1.0}, "lack the objective 'score'"),
        ({"score": float("nan")}, "must be finite"),
        ({"score": "high"}, "must be a number"),
        (3.0, "mapping of metric"),
    ]:
        with pytest.raises(ValidationError, match=match):
            tuner.observe(p, kpis)
    with pytest.raises(ValidationError, match="not a combination"):
        tuner.observe({"k": 3, "x": 0.5}, {"score": 1.0})
    with pytest.raises(ValidationError, match="outside"):
        tuner.observe({"k": 1, "x": 1.5}, {"score": 1.0})
    assert tuner.history == []
    with pytest.raises(ValidationError, match="nothing has been observed"):
        _ = tuner.best
    with pytest.raises(ValidationError, match="list of choices, Real or Integer"):
        Tuner({"k": 3}, objective="score")
    with pytest.raises(ValidationError, match="combinations"):
        Tuner({f"p{i}": list(range(10)) for i in range(5)}, objective="score")

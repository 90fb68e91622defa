"""The bad-input harness: every target of tests/hostile_inputs.py (each argument of each public
entry point the registries and signatures name) given hostile values, fixed ones and ones that
Hypothesis draws. Each must be taken, or refused with a ChimeraError that names the argument,
within seconds; never an error from deep inside, never a value of the wrong kind taken, and
the object a refused call was made on still works."""

from __future__ import annotations

import atexit
import shutil
import signal
import tempfile
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chimera import ChimeraError
from hostile_inputs import HOSTILE, Target, must_refuse, targets

TALLY: Counter[str] = Counter()  # inputs tried, refused, taken: for the session's summary
WORK = Path(tempfile.mkdtemp(prefix="chimera-harness-"))  # what the targets' objects write
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
TARGETS = targets(WORK)


@pytest.fixture(autouse=True, scope="module")
def _in_a_scratch_folder() -> Any:
    """A drawn string given as a path names a file in the working folder: keep those out of
    the checkout."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(WORK)
        yield


# Arrays of any shape (0-d to 3-d, empty sides) and dtype, NaN and infinities among them.
arrays = hnp.arrays(
    dtype=hnp.floating_dtypes() | hnp.integer_dtypes() | hnp.boolean_dtypes(),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
# Numbers of every kind; integers kept to sizes that run in milliseconds when taken (sizes too
# large to fit are among the fixed values, and refused).
numbers = (st.integers(-1000, 5000) | st.floats() | st.booleans() | st.text(max_size=3)
           | st.none())  # fmt: skip


def summary() -> str:
    t = TALLY
    return (f"bad-input harness: {t['tried']:,} hostile inputs to {len(TARGETS)} entry points: "
            f"{t['refused']:,} refused with a ChimeraError naming the argument, {t['taken']:,} "
            "taken as valid; failures are listed above")  # fmt: skip


@contextmanager
def seconds(limit: int) -> Any:
    """Fails a call that runs past ``limit`` seconds (a hang, a huge allocation)."""

    def alarm(*_: Any) -> None:
        raise TimeoutError(f"still running after {limit} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check(target: Target, value: Any) -> None:
    TALLY["tried"] += 1
    shown = repr(value)[:60]
    try:  # NumPy's RuntimeWarnings (inf - inf in an objective) are its own, not errors
        with seconds(20), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            target.call(value)
    except ChimeraError as exc:
        TALLY["refused"] += 1
        said = str(exc).lower()
        assert any(n.lower() in said for n in target.names), (
            f"{target.name} refused {shown} without naming {target.names}: {exc}"
        )
        if target.usable is not None:
            target.usable()  # a refused call left the object as it was
        return
    except Exception as exc:
        pytest.fail(f"{target.name} given {shown}: {type(exc).__name__} from inside: {exc}")
    TALLY["taken"] += 1
    assert not must_refuse(target.kind, value), f"{target.name} took {shown} for a {target.kind}"


@pytest.mark.parametrize("target", TARGETS, ids=repr)
def test_every_hostile_value(target: Target) -> None:
    for make in HOSTILE.values():
        check(target, make())


@pytest.mark.parametrize("target", TARGETS, ids=repr)
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(value=arrays | numbers)
def test_drawn_values(target: Target, value: Any) -> None:
    check(target, value)


def test_the_harness_covers_the_registries() -> None:
    from chimera import algorithms, problems
    from chimera.refinement import bandits

    names = " ".join(t.name for t in TARGETS)
    for name in [*algorithms.ALGORITHMS, *bandits.POLICIES, *problems.NAMES]:
        assert name in names
    assert len(TARGETS) > 150


def test_the_harness_covers_the_objects() -> None:
    """Every long-lived object's methods are driven (tests/hostile_objects.py): a method whose
    arguments the harness cannot give would be left out, and this count would fall."""
    names = " ".join(t.name for t in TARGETS)
    for method in ("BayesianOptimizer.tell", "Tuner.observe", "KpiStream.append",
                   "GenomeStore.add_generation", "GenomeStore.ancestors", "Scheduler.submit",
                   "Scheduler.map", "WasmAgent.evaluate", "AgentPool.scatter",
                   "ServingPool.serve", "ServingPool.propose", "collectors.from_prometheus",
                   "kpi.aggregate"):  # fmt: skip
        assert f"{method}(" in names, method
    assert sum(t.name.startswith(("GenomeStore", "Scheduler", "ServingPool", "AgentPool",
                                  "WasmAgent")) for t in TARGETS) >= 70  # fmt: skip

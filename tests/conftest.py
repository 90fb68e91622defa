"""Fixtures: the CPU backends to run a test on, and the CUDA module, CuPy and the side its
arrays live on for the tests marked cuda."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import chimera
from helpers import Side

settings.register_profile(
    "chimera", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", parent=settings.get_profile("chimera"), max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chimera"))

CPU_BACKENDS = [name for name in ("cpp", "numba") if chimera.backends()[name].available]


@pytest.fixture(params=CPU_BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """Each CPU backend that works here."""
    return str(request.param)


# --------------------------------------------------------------------------------------------
# The CUDA backend (tests marked cuda): each test skips where chimera._cuda was not built or no
# GPU is usable; `side` runs it with NumPy arrays (copied over) and with CuPy arrays (in place).


@pytest.fixture(scope="session")
def cuda() -> ModuleType:
    try:
        mod = importlib.import_module("chimera._cuda")
    except ImportError as exc:
        pytest.skip(f"chimera._cuda is not built: {exc}")
    ok, reason = mod.cuda_status()
    if not ok:
        pytest.skip(f"chimera._cuda cannot run here: {reason}")
    return mod


@pytest.fixture(scope="session")
def core() -> ModuleType:
    return importlib.import_module("chimera._core")


@pytest.fixture(scope="session")
def cp(cuda: ModuleType) -> ModuleType:
    try:
        import cupy
    except Exception as exc:  # not installed, or installed for another CUDA
        pytest.skip(f"CuPy is not usable: {type(exc).__name__}: {exc}")
    return cupy


@pytest.fixture(params=["host", "device"])
def side(request: pytest.FixtureRequest, cuda: ModuleType) -> Side:
    if request.param == "host":
        return Side("host")
    return Side("device", request.getfixturevalue("cp"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The bad-input harness's count, when it ran (tests/test_hostile_inputs.py)."""
    harness = sys.modules.get("test_hostile_inputs")
    if harness is not None and harness.TALLY["tried"]:
        t = harness.TALLY
        terminalreporter.write_line(
            f"bad-input harness: {t['tried']:,} hostile inputs to {len(harness.TARGETS)} entry "
            f"points: {t['refused']:,} refused with a ChimeraError naming the argument, "
            f"{t['taken']:,} taken as valid; failures are listed above"
        )
    specs = sys.modules.get("test_hostile_specs")
    if specs is not None and specs.TALLY["tried"]:
        t = specs.TALLY
        terminalreporter.write_line(
            f"spec harness: {t['tried']:,} hostile specs ({len(specs.CASES)} keys of the "
            f"examples): {t['refused']:,} refused by `chimera validate` with exit 2 naming the "
            f"key, {t['valid']:,} valid"
        )

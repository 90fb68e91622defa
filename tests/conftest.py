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
    """The bad-input harnesses' counts, when they ran (each module's ``summary()``)."""
    for name in ("test_hostile_inputs", "test_hostile_specs"):
        harness = sys.modules.get(name)
        if harness is not None and harness.TALLY["tried"]:
            terminalreporter.write_line(harness.summary())

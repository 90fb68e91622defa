from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import chimera

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


def kernels(name: str):
    return chimera._backend.resolve(name)[1]

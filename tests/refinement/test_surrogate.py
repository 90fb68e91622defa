"""The BO surrogate: the hand-written posterior against scikit-learn's predict, its gradients
against finite differences, and log EI's tail formula against an independent integral."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from chimera.refinement import surrogate


@pytest.fixture(scope="module")
def fitted() -> tuple[surrogate.Posterior, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.random((30, 3))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2] + 0.01 * rng.standard_normal(30)
    z = (y - y.mean()) / y.std()
    return surrogate.fit(X, z, restarts=1), X, z


def test_posterior_matches_scikit_learn(fitted) -> None:
    from sklearn.gaussian_process import GaussianProcessRegressor

    model, X, z = fitted
    gp = GaussianProcessRegressor(model.kernel, optimizer=None).fit(X, z)
    U = np.random.default_rng(0).random((50, 3))
    mean, sd = model(U)
    ref_mean, ref_sd = gp.predict(U, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-9, atol=1e-9)
    # scikit-learn's sd includes the white-noise term; ours is the latent function's.
    np.testing.assert_allclose(sd**2 + model.noise, ref_sd**2, rtol=1e-7, atol=1e-9)


def test_posterior_gradients(fitted) -> None:
    model, _, _ = fitted
    U = np.random.default_rng(1).random((20, 3))
    _, _, dmean, dsd = model(U, grad=True)
    h = 1e-4  # the sd's own rounding (K is ill-conditioned) swamps a smaller step
    for i in range(3):
        step = np.zeros(3)
        step[i] = h
        (m1, s1), (m0, s0) = model(U + step), model(U - step)
        np.testing.assert_allclose(dmean[:, i], (m1 - m0) / (2 * h), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dsd[:, i], (s1 - s0) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("acquisition", ["ei", "lcb"])
def test_acquisition_gradients(fitted, acquisition: str) -> None:
    model, _, z = fitted

    def acq(U: np.ndarray, grad: bool = False) -> tuple[np.ndarray, ...]:
        if acquisition == "ei":
            return surrogate.log_expected_improvement(model, U, float(z.min()), grad)
        return surrogate.lower_confidence_bound(model, U, 2.0, grad)

    U = np.random.default_rng(2).random((20, 3))
    _, g = acq(U, grad=True)
    assert np.isfinite(g).all()
    h = 1e-4
    for i in range(3):
        step = np.zeros(3)
        step[i] = h
        fd = (acq(U + step)[0] - acq(U - step)[0]) / (2 * h)
        np.testing.assert_allclose(g[:, i], fd, rtol=5e-4, atol=1e-5)  # log EI is steep far out


def log_h_by_integral(z: float) -> float:
    """log of h(z) = phi(z) + z Phi(z) = integral of Phi over (-inf, z]: with t = z - s / c,
    c = max(1, |z|), and the integrand divided by Phi(z), it is about exp(-s) however far out
    z is."""
    top, c = special.log_ndtr(z), max(1.0, abs(z))
    scaled, _ = integrate.quad(
        lambda s: math.exp(special.log_ndtr(z - s / c) - top), 0, np.inf, epsabs=0, epsrel=1e-9
    )
    return float(top + math.log(scaled / c))


@pytest.mark.parametrize("z", [3.0, 0.5, 0.0, -0.99, -1.01, -5.0, -40.0, -600.0, -999.0, -1001.0,
                               -5000.0])  # fmt: skip
def test_log_h_against_the_integral(z: float) -> None:
    value, slope = surrogate.log_h(np.array([z]))
    assert value[0] == pytest.approx(log_h_by_integral(z), rel=1e-9, abs=1e-9)
    # h'(z) = Phi(z), so (log h)' = Phi / h
    assert slope[0] == pytest.approx(math.exp(special.log_ndtr(z) - value[0]), rel=1e-6)


def test_log_h_is_finite_and_increasing_everywhere() -> None:
    z = -np.logspace(-3, 8, 400)[::-1]
    z = np.concatenate([z, -z[::-1]])
    value, slope = surrogate.log_h(z)
    assert np.isfinite(value).all() and np.isfinite(slope).all()
    assert (np.diff(value) > 0).all() and (slope > 0).all()

"""The Gaussian-process surrogate behind Bayesian optimisation, and its acquisition functions.

scikit-learn fits the GP: Matern 5/2 with one length scale per dimension, a signal variance
and a noise term, on standardised targets over the unit cube, with the hyperparameters at the
maximum of the marginal likelihood times a prior. The prior is log-normal on each length scale
with median ``exp(sqrt 2) * sqrt(d)`` (Hvarfner, Hellsten and Nardi 2024): long, smooth length
scales unless the data insist, which keeps a 5- or 6-dimensional model from overfitting its
first few dozen points.

:class:`Posterior` then evaluates the fitted model's latent mean and standard deviation, noise
excluded, with their gradients, in NumPy from the fit's Cholesky factor: the acquisition's
optimiser calls it thousands of times per suggestion, and scikit-learn's ``predict`` has no
gradient and checks its input on every call.

Expected improvement is maximised in log space (Ament et al. 2023, "LogEI"): plain EI and its
gradient underflow to zero far from the incumbent, which leaves the optimiser no slope to follow.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import linalg, optimize, special

SQRT5 = math.sqrt(5.0)
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Posterior:
    """The GP's latent posterior at any points of the unit cube, in standardised units."""

    def __init__(self, gp: Any) -> None:
        kernel = gp.kernel_  # ConstantKernel * Matern + WhiteKernel, as fit() builds it
        self.amplitude = float(kernel.k1.k1.constant_value)
        self.length_scale = np.broadcast_to(kernel.k1.k2.length_scale, gp.X_train_.shape[1:])
        self.noise = float(kernel.k2.noise_level)
        self.kernel = kernel
        self._X = gp.X_train_ / self.length_scale
        self._alpha = np.ravel(gp.alpha_)
        self._L = gp.L_

    def __call__(self, U: np.ndarray, grad: bool = False) -> tuple[np.ndarray, ...]:
        """Mean and sd at the rows of U; with ``grad``, also their gradients (rows of U)."""
        D = U[:, None, :] / self.length_scale - self._X[None, :, :]  # (m, n, d), scaled
        r = np.sqrt(np.einsum("mnd,mnd->mn", D, D))
        e = np.exp(-SQRT5 * r)
        K = self.amplitude * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * e
        mean = K @ self._alpha
        V = linalg.solve_triangular(self._L, K.T, lower=True, check_finite=False)
        var = np.maximum(self.amplitude - np.einsum("nm,nm->m", V, V), 1e-18)
        sd = np.sqrt(var)
        if not grad:
            return mean, sd
        # d k / d u = amplitude * -(5/3)(1 + sqrt5 r) exp(-sqrt5 r) * (u - x) / l^2
        G = (-(5.0 / 3.0) * self.amplitude) * (1.0 + SQRT5 * r) * e  # (m, n)
        W = linalg.solve_triangular(self._L.T, V, lower=False, check_finite=False)  # K^-1 k
        dmean = np.einsum("mn,mnd->md", G * self._alpha, D) / self.length_scale
        dvar = -2.0 * np.einsum("mn,mnd->md", G * W.T, D) / self.length_scale
        return mean, sd, dmean, dvar / (2.0 * sd[:, None])


def fit(X: np.ndarray, y: np.ndarray, *, start: Any = None, restarts: int = 0,
        fixed: bool = False, seed: int = 0) -> Posterior:  # fmt: skip
    """The GP on standardised (X, y): hyperparameters at the posterior mode from ``start`` (a
    kernel from an earlier fit: a warm start) plus ``restarts`` random ones, or kept as they
    are in ``start`` when ``fixed``."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    d = X.shape[1]
    kernel = start or ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        np.full(d, 0.5), (1e-2, 1e2), nu=2.5
    ) + WhiteKernel(1e-4, (1e-8, 1e-1))
    # kernel.theta is log(signal variance), log(length scales), log(noise).
    mode = np.r_[0.0, np.full(d, math.sqrt(2) + 0.5 * math.log(d)), math.log(1e-4)]
    spread = np.r_[2.0, np.full(d, math.sqrt(3)), 3.0]

    def optimizer(objective: Any, theta: np.ndarray, bounds: np.ndarray) -> tuple[Any, float]:
        def negative_log_posterior(t: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = objective(t, eval_gradient=True)
            z = (t - mode) / spread
            return value + 0.5 * float(z @ z), gradient + z / spread

        res = optimize.minimize(
            negative_log_posterior, theta, jac=True, method="L-BFGS-B", bounds=bounds
        )
        return res.x, float(res.fun)

    gp = GaussianProcessRegressor(
        kernel, optimizer=None if fixed else optimizer, n_restarts_optimizer=restarts,
        random_state=seed,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hyperparameters at their bounds are fine here
        gp.fit(X, y)
    return Posterior(gp)


def log_h(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(phi(z) + z Phi(z)) and its derivative Phi(z) / (phi(z) + z Phi(z)), accurate for
    every z: for z < -1 through phi(z)(1 + z r(z)), r = Phi / phi = sqrt(pi / 2) erfcx(-z / sqrt 2),
    and below -1000 through the asymptote 1 + z r ~ 1 / z^2."""
    z = np.asarray(z, dtype=np.float64)
    value, slope = np.empty_like(z), np.empty_like(z)
    mid = z > -1.0
    zm = z[mid]
    h = np.exp(-0.5 * zm * zm - LOG_SQRT_2PI) + zm * special.ndtr(zm)
    value[mid] = np.log(h)
    slope[mid] = special.ndtr(zm) / h
    low = ~mid & (z > -1000.0)
    zl = z[low]
    r = math.sqrt(math.pi / 2) * special.erfcx(-zl / math.sqrt(2))
    value[low] = -0.5 * zl * zl - LOG_SQRT_2PI + np.log1p(zl * r)
    slope[low] = r / (1.0 + zl * r)
    far = z <= -1000.0
    zf = z[far]
    value[far] = -0.5 * zf * zf - LOG_SQRT_2PI - 2.0 * np.log(-zf)
    slope[far] = -zf
    return value, slope


def log_expected_improvement(
    model: Posterior, U: np.ndarray, best: float, grad: bool = False
) -> tuple[np.ndarray, ...]:
    """log EI of falling below ``best`` (minimisation) at the rows of U, with its gradient."""
    if not grad:
        mean, sd = model(U)
        return (np.log(sd) + log_h((best - mean) / sd)[0],)
    mean, sd, dmean, dsd = model(U, grad=True)
    z = (best - mean) / sd
    value, slope = log_h(z)
    dz = -(dmean + z[:, None] * dsd) / sd[:, None]
    return np.log(sd) + value, dsd / sd[:, None] + slope[:, None] * dz


def lower_confidence_bound(
    model: Posterior, U: np.ndarray, kappa: float, grad: bool = False
) -> tuple[np.ndarray, ...]:
    """-(mean - kappa sd), to be maximised, with its gradient."""
    if not grad:
        mean, sd = model(U)
        return (kappa * sd - mean,)
    mean, sd, dmean, dsd = model(U, grad=True)
    return kappa * sd - mean, kappa * dsd - dmean

"""Quality indicators of a set of objective vectors, all for minimisation.

Thin, validated wrappers over `moocore <https://multi-objective.github.io/moocore/python/>`_
(exact hypervolume in any dimension, IGD, IGD+, additive epsilon). Each takes ``F``, an
``(n, M)`` array of objective vectors (rows need not be mutually non-dominated), and a
reference: a point for the hypervolume, a reference front (typically a problem's
``pareto_front(n_points)``) for the others. Inputs must be finite; the errors name the argument.
"""

from __future__ import annotations

from typing import Any

import moocore
import numpy as np
import numpy.typing as npt

from ._errors import ValidationError

__all__ = ["epsilon_additive", "hypervolume", "igd", "igd_plus"]


def _matrix(value: Any, name: str, *, allow_empty: bool) -> np.ndarray:
    """``value`` as a finite float64 ``(n, M)`` array with ``M >= 1``."""
    try:
        A = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValidationError(f"{name} could not be read as an array: {exc}") from exc
    if A.dtype.kind not in "iuf":
        raise ValidationError(f"{name} must hold real numbers, got dtype {A.dtype}")
    if A.ndim != 2 or A.shape[1] < 1:
        raise ValidationError(
            f"{name} must be a 2-D (n_points, n_obj) array, got shape {A.shape}; "
            "reshape a single point with .reshape(1, -1)"
        )
    if A.shape[0] == 0 and not allow_empty:
        raise ValidationError(f"{name} is empty; it needs at least one point")
    A = np.ascontiguousarray(A, dtype=np.float64)
    if not np.isfinite(A).all():
        rows = np.flatnonzero(~np.isfinite(A).all(axis=1))
        raise ValidationError(f"{name} must be finite; rows {rows[:5].tolist()} are not")
    return A


def _pair(F: npt.ArrayLike, reference_front: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    A = _matrix(F, "F", allow_empty=False)
    R = _matrix(reference_front, "reference_front", allow_empty=False)
    if A.shape[1] != R.shape[1]:
        raise ValidationError(
            f"F and reference_front need the same number of objectives, "
            f"got {A.shape[1]} and {R.shape[1]}"
        )
    return A, R


def hypervolume(F: npt.ArrayLike, ref: npt.ArrayLike) -> float:
    """Volume of objective space dominated by ``F`` and bounded above by ``ref``.

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised. May be empty (volume 0).
    ref : array_like, shape (M,)
        Reference point, worse than the region of interest in every objective.

    Returns
    -------
    float
        The Lebesgue measure of ``{z : f <= z < ref for some f in F}``.

    Raises
    ------
    ValidationError
        If ``F`` is not a finite 2-D array or ``ref`` is not a finite vector of length ``M``.

    Notes
    -----
    A point that does not strictly dominate ``ref`` (some ``f_i >= ref_i``) bounds no volume
    and contributes exactly 0; such points are kept and ignored, not refused, which is what
    moocore does too. Dominated and duplicate points likewise add nothing. moocore computes the
    exact value: ``O(n log n)`` in 2-D and 3-D, HV4D+ in 4-D and the WFG algorithm above.

    Examples
    --------
    >>> hypervolume([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]], ref=[4.0, 4.0])
    6.0
    """
    A = _matrix(F, "F", allow_empty=True)
    try:
        r = np.asarray(ref, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"ref must be a vector of {A.shape[1]} numbers: {exc}") from exc
    if r.shape != (A.shape[1],):
        raise ValidationError(
            f"ref must have shape ({A.shape[1]},), one value per objective of F, got {r.shape}"
        )
    if not np.isfinite(r).all():
        raise ValidationError(f"ref must be finite, got {r.tolist()}")
    if A.shape[0] == 0:
        return 0.0
    return float(moocore.hypervolume(A, ref=r))


def igd(F: npt.ArrayLike, reference_front: npt.ArrayLike) -> float:
    """Inverted generational distance: mean distance from the reference front to ``F``.

    ``IGD = mean over r in R of min over f in F of ||f - r||_2`` (the ``p = 1`` form).

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised; at least one.
    reference_front : array_like, shape (P, M)
        Points of the true front (or of the best known approximation); at least one.

    Returns
    -------
    float
        0 when every reference point is in ``F``. Not Pareto-compliant: a set can score
        better than one that dominates it, which :func:`igd_plus` fixes.

    Raises
    ------
    ValidationError
        If an array is not finite and 2-D, is empty, or the objective counts differ.
    """
    A, R = _pair(F, reference_front)
    return float(moocore.igd(A, ref=R))


def igd_plus(F: npt.ArrayLike, reference_front: npt.ArrayLike) -> float:
    """IGD+ (Ishibuchi et al., 2015): IGD counting only the amount by which ``F`` is worse.

    ``IGD+ = mean over r in R of min over f in F of ||max(f - r, 0)||_2``.

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised; at least one.
    reference_front : array_like, shape (P, M)
        Points of the true front; at least one.

    Returns
    -------
    float
        0 when every reference point is weakly dominated by some point of ``F``. Weakly
        Pareto-compliant, unlike :func:`igd`.

    Raises
    ------
    ValidationError
        If an array is not finite and 2-D, is empty, or the objective counts differ.
    """
    A, R = _pair(F, reference_front)
    return float(moocore.igd_plus(A, ref=R))


def epsilon_additive(F: npt.ArrayLike, reference_front: npt.ArrayLike) -> float:
    """Additive epsilon indicator: the least shift that makes ``F`` cover the reference front.

    ``eps = max over r in R of min over f in F of max_i (f_i - r_i)``: every reference point is
    weakly dominated by some point of ``F - eps``.

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised; at least one.
    reference_front : array_like, shape (P, M)
        Points of the true front; at least one.

    Returns
    -------
    float
        ``<= 0`` exactly when ``F`` weakly dominates the whole reference front; a copy of the
        front moved by ``+d`` in every objective scores ``d``.

    Raises
    ------
    ValidationError
        If an array is not finite and 2-D, is empty, or the objective counts differ.
    """
    A, R = _pair(F, reference_front)
    return float(moocore.epsilon_additive(A, ref=R))

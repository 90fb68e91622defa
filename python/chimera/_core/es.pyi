import numpy as np

def standard_normal(
    out: np.ndarray, seed: int, generation: int, purpose: int, simd: int = 2
) -> None: ...
def box_transform(
    out: np.ndarray,
    Y: np.ndarray,
    mean: np.ndarray,
    sigma: float,
    low: np.ndarray,
    high: np.ndarray,
    al: np.ndarray,
    au: np.ndarray,
) -> None: ...
def dot_rows(out: np.ndarray, A: np.ndarray, B: np.ndarray, simd: int = 2) -> None: ...
def add_combination(
    Y: np.ndarray, a: float, Z: np.ndarray, C: np.ndarray, M: np.ndarray, simd: int = 2
) -> None: ...

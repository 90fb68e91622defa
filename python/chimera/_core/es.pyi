import numpy as np

def standard_normal(
    out: np.ndarray, seed: int, generation: int, purpose: int, avx2: bool = True
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

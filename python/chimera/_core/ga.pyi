import numpy as np
import numpy.typing as npt

def init_uniform(out: np.ndarray, low: npt.ArrayLike, high: npt.ArrayLike, seed: int) -> None: ...
def breed(
    X: np.ndarray,
    f: npt.ArrayLike,
    low: npt.ArrayLike,
    high: npt.ArrayLike,
    out: np.ndarray,
    parents: np.ndarray,
    seed: int,
    generation: int,
    selection: int,
    selection_size: int,
    crossover: int,
    crossover_threshold: int,
    crossover_param: float,
    mutation: int,
    mutation_threshold: int,
    mutation_param: float,
    mutation_cdf: npt.ArrayLike,
    bounds: int,
) -> None: ...
def num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...

# Stubs of chimera._core.moo (bindings/bind_moo.cpp); docs/kernels.md is the contract.
import numpy as np
import numpy.typing as npt

def pareto_rank(F: npt.ArrayLike, rank: npt.NDArray[np.int32]) -> None: ...
def crowding_distance(
    F: npt.ArrayLike, rank: npt.ArrayLike, out: npt.NDArray[np.float64]
) -> None: ...
def associate(
    F: npt.ArrayLike,
    W: npt.ArrayLike,
    ref: npt.NDArray[np.int32],
    dist: npt.NDArray[np.float64],
) -> None: ...
def niche_select(
    niche_count: npt.ArrayLike,
    ref: npt.ArrayLike,
    dist: npt.ArrayLike,
    k: int,
    seed: int,
    generation: int,
    chosen: npt.NDArray[np.int32],
) -> None: ...

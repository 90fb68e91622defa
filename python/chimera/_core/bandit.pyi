# Stubs of chimera._core.bandit (bindings/bind_bandit.cpp).
from typing import Any

import numpy as np
import numpy.typing as npt

EPSILON_GREEDY: int
UCB1: int
THOMPSON_BETA: int
THOMPSON_GAUSSIAN: int
SOFTMAX: int
EXP3: int

class Bandit:
    def __init__(
        self,
        *,
        policy: int,
        arms: int,
        epsilon: float = ...,
        decay: float = ...,
        c: float = ...,
        alpha: float = ...,
        beta: float = ...,
        sigma: float = ...,
        temperature: float = ...,
        gamma: float = ...,
        discount: float = ...,
        window: int = ...,
        seed: int = ...,
    ) -> None: ...
    def select(self, n: int | None = None, context: Any = None) -> Any: ...
    def update(self, arms: Any, rewards: Any, context: Any = None) -> None: ...
    def add_arm(self) -> int: ...
    def remove_arm(self, arm: int) -> None: ...
    @property
    def arms(self) -> int: ...
    @property
    def active(self) -> npt.NDArray[np.bool_]: ...
    def state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...

LINUCB: int
LINEAR_THOMPSON: int

class LinearBandit:
    def __init__(
        self,
        *,
        policy: int,
        arms: int,
        dim: int,
        alpha: float = ...,
        l2: float = ...,
        window: int = ...,
        seed: int = ...,
    ) -> None: ...
    def select(self, n: int | None = None, context: Any = None) -> Any: ...
    def update(self, arms: Any, rewards: Any, context: Any = None) -> None: ...
    def add_arm(self) -> int: ...
    def remove_arm(self, arm: int) -> None: ...
    @property
    def arms(self) -> int: ...
    @property
    def active(self) -> npt.NDArray[np.bool_]: ...
    def state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...

AVX2: bool

def beta_variates(
    a: npt.ArrayLike, b: npt.ArrayLike, seed: int, decision: int, avx2: bool = True
) -> npt.NDArray[np.float64]: ...
def normal_variates(n: int, seed: int, decision: int) -> npt.NDArray[np.float64]: ...
def beta_in_bucket(
    a: float, b: float, lo: float, hi: float, n: int, seed: int
) -> npt.NDArray[np.float64]: ...

TABLE_BATCH: int
TABLE_CHUNK: int

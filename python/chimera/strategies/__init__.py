"""Layer 6, advanced evolution: the evolution strategies, whose search distribution learns
the problem's scale and shape.

- :class:`CMAES`, :class:`SepCMAES`, :class:`LMMAES` (:mod:`.cmaes`): CMA-ES with a full, a
  diagonal and a limited-memory model (:mod:`.models`) of the search distribution, restarted by
  IPOP or BIPOP (:mod:`.restarts`) when a run meets a stopping criterion (:mod:`.termination`),
  kept in the box by a transform or a penalty (:mod:`.bounds`), with uncertainty handling for
  noisy objectives (:mod:`.noise`); their parameters from :mod:`.parameters`.
- :class:`BatchCMAES` (:mod:`.batch`): many CMA-ES runs updated together as batched arrays
  (NumPy, or CuPy on a GPU).
- :class:`LSHADE`, :class:`JSO` (:mod:`.differential`): adaptive differential evolution with
  success-history F/CR adaptation, an external archive and linear population size reduction.
"""

from .batch import BatchCMAES
from .cmaes import CMAES, LMMAES, EvolutionStrategy, SepCMAES
from .differential import JSO, LSHADE, AdaptiveDE

__all__ = [
    "CMAES",
    "JSO",
    "LMMAES",
    "LSHADE",
    "AdaptiveDE",
    "BatchCMAES",
    "EvolutionStrategy",
    "SepCMAES",
]

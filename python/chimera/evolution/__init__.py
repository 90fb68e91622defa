"""Evolution: the genetic algorithm, NSGA-II and NSGA-III on the optimizer protocol, their
operators, Pareto ranking, checkpoint files and the genome store."""

from . import operators
from .ga import GA
from .nsga2 import NSGA2
from .nsga3 import NSGA3
from .pareto import constraint_violation, crowding_distance, pareto_rank
from .store import GenomeStore

__all__ = [
    "GA",
    "NSGA2",
    "NSGA3",
    "GenomeStore",
    "constraint_violation",
    "crowding_distance",
    "operators",
    "pareto_rank",
]

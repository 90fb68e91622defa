"""Evolution: the genetic algorithm, NSGA-II, NSGA-III, MOEA/D and SMS-EMOA on the optimizer
protocol, their operators, Pareto ranking, checkpoint files and the genome store."""

from . import operators
from .ga import GA
from .moead import MOEAD
from .nsga2 import NSGA2
from .nsga3 import NSGA3
from .pareto import constraint_violation, crowding_distance, pareto_rank
from .sms_emoa import SMSEMOA
from .store import GenomeStore

__all__ = [
    "GA",
    "MOEAD",
    "NSGA2",
    "NSGA3",
    "SMSEMOA",
    "GenomeStore",
    "constraint_violation",
    "crowding_distance",
    "operators",
    "pareto_rank",
]

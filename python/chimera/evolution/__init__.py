"""Layer 7, evolution: genomes, populations and the genetic algorithm."""

from . import operators
from .ga import GA

__all__ = ["GA", "operators"]

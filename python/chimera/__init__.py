"""Chimera: evolve, tune and safely run parameterised agents."""

# Stubs of the compiled module chimera._core (bindings/module.cpp).
from . import bandit as bandit
from . import es as es
from . import ga as ga
from . import moo as moo
from . import rng as rng
from . import scheduler as scheduler

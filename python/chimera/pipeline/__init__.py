"""The pipeline behind ``chimera run``: a spec is discovered, planned and validated once, then
runs as :class:`chimera.loop.Loop` with the stages it asks for (:mod:`.bandit`, the decide
step; :mod:`.lineage`, the genome store; :mod:`.canary`, the serve step) into a run folder
(:mod:`.folder`) that ``--resume`` continues after a kill. :func:`start` (:func:`prepare`, then
:func:`execute`) and :func:`resume` return an :class:`Outcome`.
"""

from __future__ import annotations

from . import folder
from .run import Outcome, execute, prepare, resume, start

__all__ = ["Outcome", "execute", "folder", "prepare", "resume", "start"]

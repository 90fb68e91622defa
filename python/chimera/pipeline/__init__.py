"""The pipeline: the eight layers as one flow behind ``chimera run``.

Discovery -> Planning -> Validation once, then Execution -> Refinement -> Evolution each
generation over the in-process :mod:`~chimera.pipeline.bus`, into a run folder
(:mod:`~chimera.pipeline.folder`) that ``--resume`` continues after a kill. :func:`start`
and :func:`resume` return an :class:`Outcome`.
"""

from __future__ import annotations

from . import bus, folder
from .run import Outcome, resume, start

__all__ = ["Outcome", "bus", "folder", "resume", "start"]

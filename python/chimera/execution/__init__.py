"""Layer 4, execution: WebAssembly agents run in a sandbox (``WasmAgent``) under ``Limits``, on
worker threads (``AgentPool``) that report Prometheus ``Metrics`` and their health; versions
stored by content (``ArtifactStore``), rolled out blue-green with a canary (``Deployment``)
and served, one pool per version in service, by ``ServingPool``; task graphs planned onto
workers by the native HEFT kernel (``scheduler.plan``).

The agent ABI is docs/agent-abi.md; example agents and the script that builds them are in
examples/agents/.
"""

from __future__ import annotations

from .._errors import SandboxViolation
from .agent import Evaluation, WasmAgent
from .artifacts import Artifact, ArtifactStore
from .deploy import Deployment, Ticket
from .limits import Limits
from .metrics import Metrics
from .pool import AgentPool
from .serving import Served, ServingPool

__all__ = [
    "AgentPool", "Artifact", "ArtifactStore", "Deployment", "Evaluation", "Limits", "Metrics",
    "SandboxViolation", "Served", "ServingPool", "Ticket", "WasmAgent",
]  # fmt: skip

"""Execution: WebAssembly agents run in a sandbox (``WasmAgent``) under ``Limits``, on worker
threads (``AgentPool``) that report Prometheus ``Metrics`` and their health; versions stored
by content (``ArtifactStore``), rolled out blue-green with a canary (``Deployment``) and
served, one pool per version in service, by ``ServingPool``; tasks run by ``Scheduler``
(priorities, dependencies, resources, timeouts, ``Retry``, a ``CircuitBreaker`` per version)
over the native ready queue, and task graphs scheduled onto workers by the native HEFT kernel
(``heft.schedule``).

The agent ABI is docs/agent-abi.md; example agents and the script that builds them are in
examples/agents/.
"""

from __future__ import annotations

from .._errors import CircuitOpen, SandboxViolation, TaskCancelled, TaskFailed, TaskTimeout
from .agent import Evaluation, WasmAgent
from .artifacts import Artifact, ArtifactStore
from .breaker import CircuitBreaker
from .deploy import Deployment, Ticket
from .limits import Limits
from .metrics import Metrics
from .pool import AgentPool
from .retry import Retry
from .scheduler import Options, Scheduler, Task, current_task
from .serving import Served, ServingPool

__all__ = [
    "AgentPool", "Artifact", "ArtifactStore", "CircuitBreaker", "CircuitOpen", "Deployment",
    "Evaluation", "Limits", "Metrics", "Options", "Retry", "SandboxViolation", "Scheduler",
    "Served", "ServingPool", "Task", "TaskCancelled", "TaskFailed", "TaskTimeout", "Ticket",
    "WasmAgent", "current_task",
]  # fmt: skip

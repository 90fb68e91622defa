"""Layer 4, execution: WebAssembly agents run in a sandbox (``WasmAgent``) under ``Limits``.

The agent ABI is docs/agent-abi.md; example agents and the script that builds them are in
examples/agents/.
"""

from __future__ import annotations

from .._errors import SandboxViolation
from .agent import Evaluation, WasmAgent
from .limits import Limits

__all__ = ["Evaluation", "Limits", "SandboxViolation", "WasmAgent"]

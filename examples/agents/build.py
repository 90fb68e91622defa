"""Builds the example agents' .wasm from their C sources with Zig's C compiler (the ``ziglang``
package from PyPI: ``pip install ziglang``). The built modules are checked in, so running
Chimera never needs this; rebuild after changing a source.

wasm32-wasi with the reactor model links the math functions of wasi-libc and leaves the
module with no imports at all (nothing to allow-list) and an ``_initialize`` export, which
the host calls once after instantiation.

Usage: python examples/agents/build.py [NAME ...]   (all the sources, or NAME.c only)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAGS = ["-target", "wasm32-wasi", "-mexec-model=reactor", "-O2", "-s", "-Wl,--no-entry",
         "-Wl,--initial-memory=131072", "-Wl,-z,stack-size=65536"]  # fmt: skip


def main() -> int:
    names = sys.argv[1:]
    sources = [HERE / f"{n}.c" for n in names] if names else sorted(HERE.glob("*.c"))
    for source in sources:
        target = source.with_suffix(".wasm")
        cmd = [sys.executable, "-m", "ziglang", "cc", *FLAGS, "-o", str(target), str(source)]
        subprocess.run(cmd, check=True)
        print(f"{target.name}: {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""wasmtime engines, the epoch ticker and the compiled-module cache.

An engine is made per stack limit (the only engine-wide setting a Limits holds) with fuel and
epoch interruption on, and lives for the process. One daemon thread advances every engine's
epoch each ``tick`` seconds: a Store's deadline is counted in those ticks.

Compiled modules are cached on disk (``$CHIMERA_WASM_CACHE``, else ``~/.cache/chimera/wasm``)
under a key of the module's bytes, the wasmtime version and the engine settings, so a second
process does not recompile. A cache that cannot be read or written is skipped with a log line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from importlib import metadata
from pathlib import Path

import wasmtime

from .._durable import write_atomic
from .limits import TICK

log = logging.getLogger("chimera.execution")

WASMTIME_VERSION = metadata.version("wasmtime")

_lock = threading.Lock()
_engines: dict[int, wasmtime.Engine] = {}
_ticker: threading.Thread | None = None


def engine(stack: int) -> wasmtime.Engine:
    """The engine for wasm stacks of ``stack`` bytes (fuel and epoch interruption on)."""
    with _lock:
        found = _engines.get(stack)
        if found is None:
            config = wasmtime.Config()
            config.consume_fuel = True
            config.epoch_interruption = True
            config.max_wasm_stack = stack
            found = _engines[stack] = wasmtime.Engine(config)
        ensure_ticker()
        return found


def ensure_ticker() -> None:
    """Starts the ticker thread unless it runs (again in a forked child, where it is gone)."""
    global _ticker
    if _ticker is None or not _ticker.is_alive():
        _ticker = threading.Thread(target=_tick_forever, name="chimera-epoch", daemon=True)
        _ticker.start()


def _tick_forever() -> None:
    while True:
        time.sleep(TICK)
        for e in list(_engines.values()):
            try:
                e.increment_epoch()
            except Exception:  # never let one engine stop the clock of the others
                log.exception("epoch tick failed")


def _forget_ticker() -> None:
    global _ticker
    _ticker = None


os.register_at_fork(after_in_child=_forget_ticker)


def settings(stack: int) -> str:
    return f"wasmtime={WASMTIME_VERSION};fuel=1;epoch=1;stack={stack}"


def cache_dir() -> Path:
    root = os.environ.get("CHIMERA_WASM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "chimera" / "wasm"


def compile_module(data: bytes, stack: int) -> wasmtime.Module:
    """The module compiled for ``engine(stack)``, from the disk cache when it is there.

    Raises wasmtime.WasmtimeError for bytes that are not a valid module."""
    e = engine(stack)
    key = hashlib.sha256(settings(stack).encode() + b"\0" + data).hexdigest()
    path = cache_dir() / f"{key}.cwasm"
    if path.is_file() and _trusted(path):
        try:
            return wasmtime.Module.deserialize_file(e, str(path))
        except (wasmtime.WasmtimeError, OSError) as exc:
            log.warning("recompiling %s: the cached copy failed to load (%s)", path.name, exc)
    module = wasmtime.Module(e, data)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, module.serialize())  # a reader sees the old file or the new one
    except OSError as exc:
        log.warning("not caching the compiled module in %s: %s", path.parent, exc)
    return module


def _trusted(path: Path) -> bool:
    """Whether a cached file may be loaded: a compiled module is native code, so only one that
    this user owns in a folder no one else can write."""
    try:
        st, folder = path.stat(), path.parent.stat()
    except OSError:
        return False
    uid = os.geteuid()
    ok = st.st_uid == uid and folder.st_uid == uid and not (st.st_mode | folder.st_mode) & 0o022
    if not ok:
        log.warning("not loading %s: it or its folder is writable by others", path)
    return ok

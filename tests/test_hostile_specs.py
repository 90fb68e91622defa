"""The bad-input harness for specs: every key of every example spec, and every key of the
schema (chimera.planning.spec.keys()) that no example has, given hostile TOML values (and
left out), then `chimera validate` on it. Each spec must be called valid (exit 0) or
refused with exit 2 and a message that names the key; never a traceback, never another exit
code. The keys are read from the examples, so a key an example gains later is covered."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib

from chimera.cli import main
from chimera.planning.spec import keys as spec_keys
from helpers import EXAMPLES

# TOML values no well-guarded key takes for the wrong type, and the out-of-range ones.
HOSTILE: list[Any] = ["abc", "", -1, 0, 2.5, 1e308, math.nan, math.inf, -math.inf, 2**63 - 1,
                      True, [], [1, "a"], {}, {"name": "zzz"}]  # fmt: skip
MISSING = object()  # the key left out
TALLY: Counter[str] = Counter()


def _value(v: Any) -> str:
    """``v`` as a TOML value (inline tables and arrays for nested data)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dumps(doc: dict[str, Any]) -> str:
    """A spec document as TOML: a [section] for each top-level table, the rest inline."""
    top = [f"{k} = {_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, section in doc.items():
        if isinstance(section, dict):
            top += [f"[{name}]", *(f"{k} = {_value(v)}" for k, v in section.items())]
    return "\n".join(top) + "\n"


def leaves(d: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (keys, and indices into lists of tables) to a value that is not a table:
    sections, operators' settings, the sandbox limits and the bandit's arms are gone into."""
    items = d.items() if isinstance(d, dict) else enumerate(d)
    for k, v in items:
        nested = (isinstance(v, dict) and v) or (isinstance(v, list) and v
                                                 and all(isinstance(x, dict) for x in v))  # fmt: skip
        if nested:
            yield from leaves(v, (*prefix, k))
        else:
            yield (*prefix, k)


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``doc`` with the value at ``path`` set to ``value`` (or left out)."""
    out: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    if len(path) > 1:
        out[path[0]] = replaced(doc[path[0]], path[1:], value)
    elif value is not MISSING:
        out[path[0]] = value
    else:
        del out[path[0]]
    return out


def _has(doc: Any, path: tuple[Any, ...]) -> bool:
    for p in path:
        if not isinstance(doc, (dict, list)) or (isinstance(doc, dict) and p not in doc):
            return False
        doc = doc[p]
    return True


def _name(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


CASES = [(spec.name, path) for spec in sorted(EXAMPLES.glob("*.toml"))
         for path in leaves(tomllib.loads(spec.read_text(encoding="utf-8")))]  # fmt: skip
# Every key of the schema that no example has, given to the quickstart (which has every table).
_SEEN = {(s, p) for s, p in CASES}
CASES += [("quickstart.toml", (*table.split("."), key))
          for table, names in sorted(spec_keys().items()) for key in sorted(names)
          if ("quickstart.toml", (*table.split("."), key)) not in _SEEN]  # fmt: skip


def summary() -> str:
    t = TALLY
    return (f"spec harness: {t['tried']:,} hostile specs ({len(CASES)} keys of the examples "
            f"and the schema): {t['refused']:,} refused by `chimera validate` with exit 2 naming "
            f"the key, {t['valid']:,} valid")  # fmt: skip


def test_the_writer_round_trips_every_example() -> None:
    for spec in EXAMPLES.glob("*.toml"):
        doc = tomllib.loads(spec.read_text(encoding="utf-8"))
        assert tomllib.loads(dumps(doc)) == doc, spec.name


@pytest.mark.parametrize(("spec", "path"), CASES, ids=[f"{s}:{_name(p)}" for s, p in CASES])
def test_every_key_given_hostile_values(spec: str, path: tuple[Any, ...], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    doc = tomllib.loads((EXAMPLES / spec).read_text(encoding="utf-8"))
    target = tmp_path / spec
    (tmp_path / "agents").symlink_to(EXAMPLES / "agents")  # the spec's relative wasm path
    present = _has(doc, path)
    for value in [*HOSTILE, MISSING] if present else HOSTILE:
        TALLY["tried"] += 1
        target.write_text(dumps(replaced(doc, path, value)), encoding="utf-8")
        shown = "left out" if value is MISSING else _value(value)
        code = main(["validate", str(target)])
        out, err = capsys.readouterr()
        key = _name(path)
        assert "Traceback" not in err, f"{key} = {shown}: {err}"
        assert code in (0, 2), f"{key} = {shown}: exit {code}: {err}"
        if code == 2:
            TALLY["refused"] += 1
            words = [str(p) for p in path if isinstance(p, str)]  # an arm is named by its keys
            named = words[-1] in err or ".".join(words[:-1]) in err
            assert named, f"{key} = {shown} refused without naming it: {err}"
        else:
            TALLY["valid"] += 1
            assert ": valid" in out, out

"""Does the quickstart's operator bandit earn its place? Each of its operator arms alone, and
the bandit over all of them, on the same work: the quickstart spec (the double-pole agent, a
GA of 64 for 80 generations) without the canary, over many seeds.

For each configuration it prints the median final cost, how many seeds ended as a balancing
policy (cost below the hand-tuned incumbent's 14.4: it keeps both poles up from every start),
and the median generation that first got there. One arm alone is the spec with only that arm
(twice: the bandit needs two); the bandit is the spec as it is.

Usage::

    python benchmarks/bench_operator_bandit.py [--seeds 16]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.toml"
BALANCED = 14.4  # the incumbent's cost: every start balanced for the whole episode
ARMS = re.compile(r"^arms = \[\n(.*?)^\]\n", re.S | re.M)


def spec_text(seed: int, arms: list[str] | None) -> str:
    """The quickstart with ``seed``, no canary, and ``arms`` (None: its own)."""
    text = QUICKSTART.read_text(encoding="utf-8")
    text = text[: text.index("[refinement.deploy]")] + text[text.index("[resources]") :]
    text = re.sub(r"^seed = \d+$", f"seed = {seed}", text, count=1, flags=re.M)
    text = text.replace('wasm = "agents/', f'wasm = "{ROOT / "examples" / "agents"}/')
    if arms is not None:
        text = ARMS.sub(lambda _: "arms = [\n" + "".join(arms) + "]\n", text)
    return text.replace("[output]\n", "[output]\nreport = false\n", 1)


def run(seed: int, arms: list[str] | None) -> np.ndarray:
    """The best cost after each generation."""
    from chimera import pipeline

    work = Path(tempfile.mkdtemp(prefix="chimera-bench-"))
    try:
        spec = work / "spec.toml"
        spec.write_text(spec_text(seed, arms), encoding="utf-8")
        pipeline.start(spec, work / "run", probe=False)
        return np.asarray(pq.read_table(work / "run" / "history.parquet").column("best"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=16)
    args = ap.parse_args()
    match = ARMS.search(QUICKSTART.read_text(encoding="utf-8"))
    assert match is not None, "the quickstart has no arms list"
    arms = match.group(1).splitlines(keepends=True)
    configs: dict[str, list[str] | None] = {
        f"arm {i} alone: {a.strip().rstrip(',')}": [a, a] for i, a in enumerate(arms)
    }
    configs["bandit over all arms"] = None
    rows, payload = [], {}
    for name, chosen in configs.items():
        best = np.array([run(seed, chosen) for seed in range(1, args.seeds + 1)])
        reached = [int(np.argmax(b < BALANCED)) + 1 for b in best if (b < BALANCED).any()]
        final = best[:, -1]
        rows.append([name, f"{np.median(final):.3g}", f"{final.mean():.3g}",
                     f"{len(reached)}/{len(best)}",
                     f"{np.median(reached):.0f}" if reached else "-"])  # fmt: skip
        payload[name] = {"final": final.tolist(), "generation_balanced": reached}
    print_table(
        "quickstart operator arms, double pole",
        ["configuration", "median cost", "mean cost", "balanced", "median gen"],
        rows,
    )
    print(f"results: {write_results('operator_bandit', {'seeds': args.seeds, 'runs': payload})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

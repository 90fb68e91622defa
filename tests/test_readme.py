"""Every Python block of the README runs as written, from a folder where the README's relative
paths (examples/...) hold, and prints what the README says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_its_blocks() -> None:
    assert len(BLOCKS) == 6


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_a_readme_block_runs_as_written(i: int, tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    run = subprocess.run([sys.executable, "-c", BLOCKS[i]], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    printed = run.stdout.split()
    if i == 0:  # "about 0.0006 200000 1000", then 1000 history rows
        assert float(printed[0]) < 0.01 and printed[1:] == ["200000", "1000", "1000"]
    if i == 2:  # the strategies: "cmaes 1.2e-14", then the BIPOP run, then L-SHADE
        assert printed[0] == "cmaes" and float(printed[1]) < 1e-10
        assert float(printed[2]) < 1e-8 and float(printed[4]) < 1e-8
    if i == 3:  # "about 0.659"
        assert abs(float(printed[0]) - 0.659) < 0.005
    if i == 4:
        assert run.stdout.startswith("Welch t-test:")

"""The documents stay true: docs/spec.md's algorithm tables are the registry's, it names every
bandit policy and gate a spec may, and every path the README's layout table names exists."""

from __future__ import annotations

import re

from chimera import algorithms
from chimera.refinement.bandits import POLICIES
from chimera.refinement.gates import GATES
from helpers import EXAMPLES

REPO = EXAMPLES.parent


def test_the_spec_document_has_the_registrys_tables() -> None:
    text = (REPO / "docs" / "spec.md").read_text()
    generated = text.split("-->\n", 1)[1].split("<!-- end of generated tables -->")[0]
    assert generated == algorithms.markdown(), (
        "run `chimera algorithms --markdown` into docs/spec.md"
    )
    for name in (*POLICIES, *GATES):
        assert f"`{name}`" in text, name


def test_the_readme_starts_with_the_two_commands_and_its_layout_exists() -> None:
    text = (REPO / "README.md").read_text()
    assert text.split("```bash\n", 1)[1].startswith(
        'pip install . && chimera run examples/quickstart.toml\npip install ".[test]" && pytest\n'
    )
    layout = text.split("## Layout", 1)[1]
    paths = re.findall(r"^\| `([^`]+)` \|", layout, flags=re.M)
    assert len(paths) >= 8
    for path in paths:
        assert (REPO / path).exists(), path

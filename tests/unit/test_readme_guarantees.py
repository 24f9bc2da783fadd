"""Every guarantee the README makes names a test that exists: none loses its test in a refactor.

The Guarantees section names tests as ``file.py::test_name`` or ``file.py``
(in ``tests/e2e/`` unless the path says otherwise); this reads them and looks
each one up with ``ast``, so a renamed or moved test fails here, naming it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"^### Guarantees\n(.*?)^### ", re.S | re.M)
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?\w+\.py)(?:::(\w+))?`")


def references(readme: str) -> list[tuple[str, str | None]]:
    """The ``(file, test or None)`` pairs the Guarantees section names, in order."""
    section = SECTION.search(readme)
    assert section is not None, "README.md has no '### Guarantees' section"
    return [(m.group(1), m.group(2)) for m in REFERENCE.finditer(section.group(1))]


def missing(root: Path, refs: list[tuple[str, str | None]]) -> list[str]:
    """The references that name no file or no test function in it."""
    gone = []
    for file, test in refs:
        path = root / file if file.startswith("tests/") else root / "tests" / "e2e" / file
        if not path.is_file():
            gone.append(file)
            continue
        if test is None:
            continue
        names = {
            node.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef)
        }
        if test not in names:
            gone.append(f"{file}::{test}")
    return gone


def test_every_guarantee_names_a_test_that_exists() -> None:
    refs = references((ROOT / "README.md").read_text())
    assert len(refs) >= 10  # the section was found and read
    assert missing(ROOT, refs) == []


def test_a_renamed_test_is_caught(tmp_path: Path) -> None:
    (tmp_path / "tests" / "e2e").mkdir(parents=True)
    (tmp_path / "tests" / "e2e" / "test_x.py").write_text("def test_kept():\n    pass\n")
    readme = (
        "### Guarantees\n- a (`test_x.py::test_kept`), b (`test_x.py::test_renamed`),\n"
        "  c (`tests/soak/test_gone.py`)\n### Exit codes\n"
    )
    assert missing(tmp_path, references(readme)) == [
        "test_x.py::test_renamed",
        "tests/soak/test_gone.py",
    ]

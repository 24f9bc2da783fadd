"""The README's layout tree lists exactly the package's folders and modules.

The tree is the code block that starts with ``thumbgen/`` under "Development":
one entry a line, indented two spaces a level, a folder ending in ``/``, then
a few words on what it is. Compared with the package: every folder (data
folders such as ``imaging/profiles/`` included, their files not) and every
``.py`` module except ``__init__.py`` (a package's line stands for it) and
``__pycache__``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "thumbgen"
_ENTRY = re.compile(r"(?P<indent> *)(?P<name>\S+)(?:\s{2,}(?P<what>\S.*))?$")


def tree_in(text: str) -> list[str]:
    """The lines of the README's code block that starts with ``thumbgen/``."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    trees = [b.splitlines() for b in blocks if b.startswith("thumbgen/\n")]
    if len(trees) != 1:
        raise ValueError(f"expected one code block starting with thumbgen/, found {len(trees)}")
    return trees[0]


def listed(lines: list[str]) -> set[str]:
    """The paths a layout tree names, relative to its first line's folder (``imaging/sniff.py``).

    Raises ValueError for a line that is not one entry with its few words, or
    that is indented deeper than under a folder.
    """
    paths: set[str] = set()
    folders: list[str] = []  # the folder at each depth above the current line
    for number, line in enumerate(lines[1:], start=2):
        match = _ENTRY.fullmatch(line)
        if match is None or len(match["indent"]) % 2 or not match["what"]:
            raise ValueError(f"tree line {number} is not 'name  what it is': {line!r}")
        depth = len(match["indent"]) // 2 - 1
        if depth < 0 or depth > len(folders):
            raise ValueError(f"tree line {number} is indented wrongly: {line!r}")
        del folders[depth:]
        path = "".join(folders) + match["name"]
        if path in paths:
            raise ValueError(f"tree line {number} lists {path} again")
        paths.add(path)
        if match["name"].endswith("/"):
            folders.append(match["name"])
    return paths


def in_package(package: Path) -> set[str]:
    """The folders (``imaging/``) and modules (``imaging/sniff.py``) of ``package``."""
    found: set[str] = set()
    for path in package.rglob("*"):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts:
            continue
        if path.is_dir():
            found.add(f"{relative.as_posix()}/")
        elif path.suffix == ".py" and path.name != "__init__.py":
            found.add(relative.as_posix())
    return found


def test_the_readme_tree_lists_every_folder_and_module() -> None:
    shown = listed(tree_in((ROOT / "README.md").read_text()))
    actual = in_package(PACKAGE)
    missing, stale = sorted(actual - shown), sorted(shown - actual)
    where = "README.md's layout tree (under Development)"
    assert not missing, f"{where} lacks a line for {missing}"
    assert not stale, f"{where} lists {stale}, which thumbgen/ no longer has"


def test_a_missing_or_stale_entry_is_told(tmp_path: Path) -> None:
    package = tmp_path / "thumbgen"
    (package / "imaging" / "profiles").mkdir(parents=True)
    for name in ("__init__.py", "errors.py", "imaging/__init__.py", "imaging/sniff.py"):
        (package / name).write_text("")
    (package / "imaging" / "profiles" / "cmyk.icc").write_bytes(b"")
    (package / "imaging" / "__pycache__").mkdir()
    readme = "\n".join(
        [
            "```",
            "thumbgen/",
            "  errors.py     one error hierarchy",
            "  imaging/      the core",
            "    sniff.py    formats by content",
            "    gone.py     moved away",
            "  naming.py     file names",
            "```",
        ]
    )
    shown = listed(tree_in(readme))
    assert shown == {"errors.py", "imaging/", "imaging/sniff.py", "imaging/gone.py", "naming.py"}
    actual = in_package(package)
    assert actual == {"errors.py", "imaging/", "imaging/sniff.py", "imaging/profiles/"}
    assert actual - shown == {"imaging/profiles/"}
    assert shown - actual == {"imaging/gone.py", "naming.py"}


@pytest.mark.parametrize(
    "line",
    [
        "  errors.py",  # no words on what it is
        "   errors.py   odd indent",
        "      sniff.py    deeper than under a folder",
        "  imaging/    listed twice",
    ],
)
def test_a_malformed_tree_is_refused(line: str) -> None:
    lines = ["thumbgen/", "  imaging/    the core", line]
    with pytest.raises(ValueError, match="tree line 3"):
        listed(lines)


def test_only_one_tree_is_read() -> None:
    with pytest.raises(ValueError, match="found 0"):
        tree_in("```\nnot a tree\n```\n")
    with pytest.raises(ValueError, match="found 2"):
        tree_in("```\nthumbgen/\n```\n```\nthumbgen/\n```\n")

"""The layers, enforced: who may import whom, read from the source with ast.

- ``imaging`` is the core: nothing from the queue, watch mode, the service
  layer or the command line;
- ``watch`` hands files to a callback and knows nothing of the queue;
- ``jobqueue`` runs jobs through imaging and knows nothing of the front ends;
- only ``cli`` imports typer and rich, and nothing imports ``cli``;
- only ``server`` imports the HTTP stack (FastAPI, Starlette, uvicorn,
  python-multipart), and it reaches the queue through ``commands`` like the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "thumbgen"

#: Top-level thumbgen modules and subpackages that each layer must not import.
FORBIDDEN: dict[str, set[str]] = {
    "imaging": {"jobqueue", "watch", "cli", "server", "commands", "supervisor", "discover"},
    "watch": {"jobqueue", "cli", "server", "commands", "supervisor"},
    "jobqueue": {"watch", "cli", "server", "commands", "supervisor", "discover"},
    "server": {"cli", "watch"},
}
#: Third-party packages only the command line may import.
CLI_ONLY = {"typer", "rich", "click"}
#: Third-party packages only the HTTP server may import.
SERVER_ONLY = {"fastapi", "starlette", "uvicorn", "multipart", "python_multipart"}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, set[str]]]:
    """Per import statement: its line and the absolute module names it may load."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.append((node.lineno, {alias.name for alias in node.names}))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from thumbgen import cli" loads the submodule thumbgen.cli.
            found.append((node.lineno, {prefix} | {f"{prefix}.{a.name}" for a in node.names}))
    return found


def complaint(layer: str, name: str, imported: str) -> str | None:
    """Why ``name`` (in ``layer``) may not import ``imported``, or None if it may."""
    top = imported.split(".")[0]
    inner = imported.split(".")[1] if imported.startswith("thumbgen.") else ""
    if top in CLI_ONLY and layer != "cli":
        return "only thumbgen.cli may"
    if top in SERVER_ONLY and layer != "server":
        return "only thumbgen.server may"
    if inner == "cli" and layer != "cli" and name != "thumbgen.__main__":
        return "nothing imports the CLI"
    if inner in FORBIDDEN.get(layer, ()):
        return f"{layer} must not"
    return None


def violations(root: Path) -> list[str]:
    """Every import statement in ``root``'s package tree that breaks a layer rule."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        layer = name.split(".")[1] if name.count(".") else ""
        for line, names in imports_of(path, root):
            for imported in sorted(names):
                why = complaint(layer, name, imported)
                if why:
                    problems.append(f"{name}:{line} imports {imported} ({why})")
                    break
    return problems


def test_every_layer_keeps_to_its_imports() -> None:
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        ("imaging/bad.py", "import typer", "only thumbgen.cli may"),
        ("imaging/bad.py", "from ..jobqueue import runner", "imaging must not"),
        ("imaging/bad.py", "from thumbgen.watch.settle import Settler", "imaging must not"),
        ("watch/bad.py", "from thumbgen.jobqueue.huey_app import Queue", "watch must not"),
        ("jobqueue/sqlite/bad.py", "from ...commands import add", "jobqueue must not"),
        ("commands.py", "from rich.console import Console", "only thumbgen.cli may"),
        ("supervisor.py", "from thumbgen import cli", "nothing imports the CLI"),
        ("commands/bad.py", "import fastapi", "only thumbgen.server may"),
        ("cli/bad.py", "from starlette.requests import Request", "only thumbgen.server may"),
        ("server/bad.py", "from thumbgen.cli import render", "nothing imports the CLI"),
    ],
)
def test_a_forbidden_import_is_caught(
    tmp_path: Path, module: str, line: str, complaint: str
) -> None:
    # The same checker on a throwaway package tree holding one offending module.
    fake = tmp_path / "thumbgen"
    path = fake / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(line + "\n")
    found = violations(fake)
    assert len(found) == 1, found
    assert complaint in found[0]

"""The layers, enforced: who may import whom, and no import cycle, read from the source with ast.

Every module of the package belongs to a layer, named by its first part under
``thumbgen`` (``thumbgen.imaging.sniff`` is in ``imaging``, ``thumbgen.errors``
in ``errors``). Lowest first:

- the base modules (errors, messages, locations, naming, options, config)
  import only each other;
- ``imaging`` is the core: one source in, thumbnails out, nothing of storage,
  the queue, the workers, watch mode or the front ends;
- ``storage`` (sources and outputs behind one protocol) knows nothing of
  imaging, the queue or anything above them;
- ``outputs`` (a job's planned outputs) builds on the base modules alone;
  ``thumbnailing`` (the library call: imaging between two storages) is
  below everything that runs jobs;
- ``jobqueue`` is the job store alone: it neither runs jobs (``workers``)
  nor reads sources (``storage``, ``imaging``);
- ``watch`` hands files (or listed objects: a bucket is watched by listing
  it through ``storage``) to a callback and knows nothing of the queue;
- ``commands`` is the service layer the front ends call (discovering
  sources is part of it); it starts no workers and knows no front end;
- ``workers`` run jobs; ``supervisor`` runs the watcher beside embedded
  workers for ``watch``, so it alone may import ``watch``;
- ``server`` reaches the queue through ``commands``, as the CLI does;
- only ``cli`` imports typer and rich (and click), and only ``__main__``
  imports ``cli``; only ``server`` imports the HTTP stack (FastAPI,
  Starlette, uvicorn, python-multipart).

The layer rules count every import, ``if TYPE_CHECKING:`` ones included: a
layer that names another's types depends on it. The cycle rule counts every
import that runs, at the top of a module or inside a function, and leaves out
``if TYPE_CHECKING:`` ones: they never execute, so they cannot make Python
find a half-initialised module, which is what a cycle risks (and mypy takes
cycles in its stride). A function-level import does run, only later, and a
loop through one is still a loop: it just fails on some call instead of at
start-up. How package ``__init__`` modules count is told at
:func:`edges`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "thumbgen"

#: Top-level modules every layer may import, and that import only each other.
BASE = {"errors", "messages", "locations", "naming", "options", "config"}
#: Every layer (a top-level module or subpackage of thumbgen) and what it must not import.
FORBIDDEN: dict[str, set[str]] = {
    **{base: set() for base in BASE},  # their rule is BASE itself: see complaint()
    # A job's planned outputs, from the base modules alone; and the library
    # call, imaging between two storages, below everything that runs jobs.
    "outputs": {
        "imaging", "storage", "thumbnailing", "jobqueue", "workers", "watch", "commands",
        "cli", "server",
    },
    "thumbnailing": {"jobqueue", "workers", "watch", "commands", "cli", "server"},
    "imaging": {
        "storage", "thumbnailing", "jobqueue", "workers", "watch", "commands", "cli", "server",
    },
    "storage": {
        "imaging", "thumbnailing", "jobqueue", "workers", "watch", "commands", "cli", "server",
    },
    "jobqueue": {
        "workers", "watch", "commands", "cli", "server", "storage", "imaging", "thumbnailing",
    },
    "watch": {"jobqueue", "workers", "commands", "cli", "server", "thumbnailing"},
    "commands": {"server", "cli", "workers"},
    "workers": {"cli", "server", "watch"},
    "server": {"cli", "watch", "jobqueue"},
    "cli": set(),
    # The library API is the imaging core (with the base modules), nothing above it.
    "__init__": {
        "storage", "jobqueue", "workers", "watch", "commands", "cli", "server",
    },
    "__main__": set(),
}  # fmt: skip
#: Single modules allowed one import their layer's rule forbids, and why.
EXCEPTIONS: dict[str, set[str]] = {
    # ``watch`` runs the watcher beside the embedded workers it supervises.
    "thumbgen.workers.supervisor": {"watch"},
}
#: Third-party packages only the command line may import.
CLI_ONLY = {"typer", "rich", "click"}
#: Third-party packages only the HTTP server may import.
SERVER_ONLY = {"fastapi", "starlette", "uvicorn", "multipart", "python_multipart"}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> str:
    """The layer of module ``name``: its first part under thumbgen (``__init__`` for the root)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of import statements under ``if TYPE_CHECKING:`` (never run)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            for statement in node.body:
                found.update(
                    id(n) for n in ast.walk(statement) if isinstance(n, ast.Import | ast.ImportFrom)
                )
    return found


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, list[list[str]], bool]]:
    """Per import statement, anywhere in the module: its line, what it names, whether it runs.

    What it names: per imported name, the absolute dotted names it may load,
    longest first (``from a import b`` may load ``a.b`` or only ``a``).
    """
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    typing_only = type_checking_only(tree)
    for node in ast.walk(tree):
        runs = id(node) not in typing_only
        if isinstance(node, ast.Import):
            yield node.lineno, [[alias.name] for alias in node.names], runs
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from thumbgen import cli" loads the submodule thumbgen.cli.
            yield node.lineno, [[f"{prefix}.{a.name}", prefix] for a in node.names], runs


def complaint(name: str, imported: str) -> str | None:
    """Why module ``name`` may not import ``imported``, or None if it may."""
    layer = layer_of(name)
    top = imported.split(".")[0]
    if top in CLI_ONLY and layer != "cli":
        return "only thumbgen.cli may"
    if top in SERVER_ONLY and layer != "server":
        return "only thumbgen.server may"
    if top != "thumbgen" or imported == "thumbgen":
        return None
    inner = imported.split(".")[1]
    if inner == layer or inner in EXCEPTIONS.get(name, ()):
        return None
    if inner == "cli" and layer != "__main__":
        return "nothing imports the CLI"
    if layer in BASE and inner in FORBIDDEN and inner not in BASE:
        return "a base module imports only base modules"
    if layer not in FORBIDDEN:
        return f"{layer} is in no layer: add it to FORBIDDEN"
    if inner in FORBIDDEN[layer]:
        return f"{layer} must not"
    return None


def violations(root: Path) -> list[str]:
    """Every import in ``root``'s package tree that breaks a layer rule."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        for line, names, _ in imports_of(path, root):
            for imported in sorted(n for candidates in names for n in candidates):
                why = complaint(name, imported)
                if why:
                    problems.append(f"{name}:{line} imports {imported} ({why})")
                    break
    return problems


def edges(root: Path) -> dict[str, dict[str, int]]:
    """The import graph of ``root``'s package: module -> {module it loads: line}.

    An import of ``a.b.c`` loads module ``a.b.c`` and runs the ``__init__``
    of each package above it, ``a.b`` here; those packages count as imported
    too, except the ones the importer is inside: they were initialised (or
    are being) before the importer ran. So ``from . import x`` in a package's
    ``__init__`` is an edge to the child ``x`` alone, and a child importing a
    sibling does not loop back through its own ``__init__``; but a module
    importing ``thumbgen.commands.adding`` from outside ``commands`` depends
    on everything ``commands/__init__.py`` imports.
    """
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        out = graph.setdefault(name, {})
        for line, names, runs in imports_of(path, root):
            if not runs:
                continue
            for candidates in names:
                target = next((c for c in candidates if c in modules), None)
                while target is not None and target in modules:
                    if not (name == target or name.startswith(target + ".")):
                        out.setdefault(target, line)
                    target = target.rpartition(".")[0]
    return graph


def cycles(root: Path) -> list[list[str]]:
    """Per group of modules that import each other in a loop (Tarjan): a shortest loop, by line."""
    graph = edges(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                loop = _one_cycle(graph, set(group))
                rest = sorted(set(group) - {step.split(":")[0] for step in loop})
                found.append(
                    loop + ([f"(the loop also runs through {', '.join(rest)})"] if rest else [])
                )

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _one_cycle(graph: dict[str, dict[str, int]], group: set[str]) -> list[str]:
    """A shortest loop through the group's first module, each step with the line it imports on."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        reached = []
        for node in frontier:
            for nxt, line in sorted(graph[node].items()):
                step = f"{node}:{line} -> {nxt}"
                if nxt == start:
                    return [*paths[node][:-1], step]
                if nxt in group and nxt not in paths:
                    paths[nxt] = [*paths[node][:-1], step, nxt]
                    reached.append(nxt)
        frontier = reached
    raise AssertionError(f"no loop through {start}")


def test_every_layer_keeps_to_its_imports() -> None:
    assert violations(PACKAGE) == []


def test_every_module_is_in_a_layer() -> None:
    # A new top-level module or subpackage must be given its rule, not slip past them all.
    layers = {layer_of(module_name(path, PACKAGE)) for path in PACKAGE.rglob("*.py")}
    assert layers - FORBIDDEN.keys() == set()
    assert layers >= BASE


def test_no_import_cycle() -> None:
    assert cycles(PACKAGE) == []


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        ("imaging/bad.py", "import typer", "only thumbgen.cli may"),
        ("imaging/bad.py", "from ..jobqueue import runner", "imaging must not"),
        ("imaging/bad.py", "from thumbgen.watch.settle import Settler", "imaging must not"),
        ("imaging/bad.py", "from thumbgen.storage import local", "imaging must not"),
        ("storage/bad.py", "from thumbgen.imaging import pipeline", "storage must not"),
        ("watch/bad.py", "from thumbgen.jobqueue.huey_app import Queue", "watch must not"),
        ("jobqueue/sqlite/bad.py", "from ...commands import add", "jobqueue must not"),
        ("jobqueue/bad.py", "from thumbgen.workers import runner", "jobqueue must not"),
        ("jobqueue/bad.py", "from thumbgen.imaging.sniff import sniff", "jobqueue must not"),
        ("commands.py", "from rich.console import Console", "only thumbgen.cli may"),
        ("commands/bad.py", "from thumbgen.server import app", "commands must not"),
        ("commands/bad.py", "from thumbgen.workers.embedded import start", "commands must not"),
        ("workers/bad.py", "from thumbgen.watch import watcher", "workers must not"),
        ("workers/supervisor.py", "from thumbgen import cli", "nothing imports the CLI"),
        ("commands/bad.py", "import fastapi", "only thumbgen.server may"),
        ("cli/bad.py", "from starlette.requests import Request", "only thumbgen.server may"),
        ("server/bad.py", "from thumbgen.cli import render", "nothing imports the CLI"),
        ("server/bad.py", "from thumbgen.jobqueue.huey_app import Queue", "server must not"),
        ("errors.py", "from thumbgen.imaging import formats", "imports only base modules"),
        ("naming.py", "from .jobqueue.contract import State", "imports only base modules"),
        ("outputs.py", "from thumbgen.storage import local", "outputs must not"),
        ("thumbnailing.py", "from thumbgen.jobqueue import policy", "thumbnailing must not"),
        ("__init__.py", "from thumbgen.commands import add", "__init__ must not"),
        ("extra.py", "from thumbgen import errors", "extra is in no layer"),
    ],
)
def test_a_forbidden_import_is_caught(
    tmp_path: Path, module: str, line: str, complaint: str
) -> None:
    # The same checker on a throwaway package tree holding one offending module,
    # inside a function and under TYPE_CHECKING too: both still count here.
    fake = tmp_path / "thumbgen"
    path = fake / module
    path.parent.mkdir(parents=True, exist_ok=True)
    for source in (line, f"def f():\n    {line}", f"if TYPE_CHECKING:\n    {line}"):
        path.write_text(source + "\n")
        found = violations(fake)
        assert len(found) == 1, found
        assert complaint in found[0]


def test_the_allowed_imports_pass(tmp_path: Path) -> None:
    # The rules do not simply refuse everything: each of these is allowed.
    fake = tmp_path / "thumbgen"
    allowed = {
        "errors.py": "from .messages import reason",
        "messages.py": "from thumbgen import __version__",
        "imaging/a.py": "from thumbgen.options import Options\nfrom . import b",
        "jobqueue/a.py": "from thumbgen.locations import parse\nimport huey",
        "workers/supervisor.py": "from thumbgen.watch import watcher",
        "server/a.py": "import fastapi\nfrom thumbgen.commands import queues",
        "cli/a.py": "import typer\nfrom thumbgen.server import running",
        "__main__.py": "from thumbgen.cli import main",
    }
    for module, source in allowed.items():
        path = fake / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source + "\n")
    assert violations(fake) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    fake = root / "thumbgen"
    for module, source in files.items():
        path = fake / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return fake


def test_a_cycle_through_a_function_level_import_is_caught(tmp_path: Path) -> None:
    fake = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "imaging/__init__.py": "",
            "imaging/sniff.py": "def ask():\n    from .reading import lifted\n",
            "imaging/reading.py": "from .sniff import identify\n",
        },
    )
    assert cycles(fake) == [
        ["thumbgen.imaging.reading:1 -> thumbgen.imaging.sniff",
         "thumbgen.imaging.sniff:2 -> thumbgen.imaging.reading"],
    ]  # fmt: skip


def test_a_cycle_through_a_package_init_is_caught(tmp_path: Path) -> None:
    # Importing commands.adding from outside runs commands/__init__, which imports server.
    fake = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "commands/__init__.py": "from .adding import add\nfrom thumbgen.server import app\n",
            "commands/adding.py": "",
            "server/__init__.py": "",
            "server/app.py": "from thumbgen.commands.adding import add\n",
        },
    )
    assert cycles(fake) == [
        ["thumbgen.commands:2 -> thumbgen.server.app",
         "thumbgen.server.app:1 -> thumbgen.commands"],
    ]  # fmt: skip


def test_what_is_not_a_cycle(tmp_path: Path) -> None:
    # A package __init__ re-exporting from its children, children importing
    # each other one way and their parent, and a loop that exists only
    # under TYPE_CHECKING: no import ever finds a half-initialised module.
    fake = _tree(
        tmp_path,
        {
            "__init__.py": "if TYPE_CHECKING:\n    from .imaging.pipeline import make\n",
            "imaging/__init__.py": "from . import pipeline\nfrom .sniff import sniff\n",
            "imaging/pipeline.py": "from thumbgen.imaging.sniff import sniff\nimport thumbgen\n",
            "imaging/sniff.py": "from . import formats\nfrom thumbgen.imaging import x\n",
            "imaging/formats.py": "if TYPE_CHECKING:\n    from .sniff import sniff\n",
        },
    )
    assert cycles(fake) == []
    assert edges(fake)["thumbgen.imaging"] == {
        "thumbgen.imaging.pipeline": 1,
        "thumbgen.imaging.sniff": 2,
    }

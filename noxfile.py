"""Development tasks: `nox -s lint typecheck tests`, and `nox -s bench` for the benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
LINT_DEPS = ["ruff>=0.6"]
TYPE_DEPS = ["mypy>=1.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite against an installed (non-editable) thumbgen."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install(".", *TYPE_DEPS)
    session.run("mypy", "thumbgen")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: thumbgen against baselines measured in the same run (medians, ratios)."""
    session.install(".")
    session.run("python", "tests/benchmarks/run.py", *session.posargs)

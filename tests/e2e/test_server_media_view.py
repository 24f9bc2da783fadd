"""The dashboard's job view shows a video's length, codec and size (issue 24).

A video made by PyAV is thumbnailed by ``thumbgen add --wait`` in a real
process; ``thumbgen serve`` (no worker) then shows its job in headless
chromium, as :mod:`test_server_dashboard` drives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support import imagegen, videogen
from support.procs import run_thumbgen
from support.server import served
from test_server_dashboard import browser, open_dashboard  # noqa: F401 (the module's chromium)

pytest.importorskip("av")


@pytest.fixture
def tab(browser) -> Iterator[Page]:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_the_job_view_shows_a_videos_length_codec_and_size(
    tab: Page, tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    videogen.video(folder / "clip.mp4", seconds=2.5)
    imagegen.asymmetric((64, 48)).save(folder / "still.png")
    # Into the server's output folder (served's default), so the gallery has the posters.
    added = run_thumbgen("add", str(folder), "-o", str(tmp_path / "thumbs"), "--wait", env=env)
    assert added.returncode == 0, added.stdout + added.stderr
    with served(tmp_path, env, "-w", "0") as srv:
        with srv.client() as http:
            jobs = {j["source"]: j["id"] for j in http.get("/jobs").json()}
        video_id, still_id = jobs[str(folder / "clip.mp4")], jobs[str(folder / "still.png")]
        open_dashboard(tab, srv, f"#/job/{video_id}")
        facts = tab.locator("#job-facts")
        expect(facts).to_contain_text("0:02.5, h264, 160\u00d796")
        open_dashboard(tab, srv, f"#/job/{still_id}")
        expect(tab.locator("#job-title")).to_contain_text("still.png")
        expect(facts).not_to_contain_text("video")
        # The gallery's tile of the video says its length; the still's says none.
        open_dashboard(tab, srv, "#/gallery")
        video_tile = tab.locator(f'.tile[data-job="{video_id}"]')
        expect(video_tile.locator(".tile-length")).to_have_text("0:02.5")
        expect(tab.locator(f'.tile[data-job="{still_id}"] .tile-length')).to_have_count(0)

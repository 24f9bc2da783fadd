"""The dashboard's views and actions in a real browser, on a SQLite and a Redis queue.

Debian's chromium (headless) driven by Playwright against a real ``thumbgen
serve`` with a token and one worker: the token is typed into the page's
form, images are dropped on the upload view (one corrupt, one with a name
that is HTML), the worker makes their thumbnails, and each view and button
is checked by what it shows and by its effect on the queue, read back
through the API. Every view is photographed at 390 and 1440 px wide into
``SCREENSHOTS_DIR`` (default: the test's folder) for a person to look at.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from support.imagegen import write_jpegs
from support.redis_server import redis_env, redis_server
from support.server import ServeProcess, served, upload, wait_jobs
from test_server_dashboard import HOSTILE, browser  # noqa: F401 (the module's chromium)

TOKEN = "views-token-7d1f"
WIDTHS = (390, 1440)
CORRUPT = b"\xff\xd8\xff\xe0" + b"not a picture" * 20  # JPEG by its magic, garbage after


@pytest.fixture(params=["sqlite", "redis"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]
) -> Iterator[ServeProcess]:
    """``thumbgen serve`` with a token and one worker, on either backend."""
    if request.param == "sqlite":
        with served(tmp_path, env, "-w", "1", "-s", "64", token=TOKEN) as srv:
            yield srv
        return
    with redis_server(tmp_path / "redis") as redis:
        renv = redis_env(redis.url, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
        with served(tmp_path, renv, "-w", "1", "-s", "64", token=TOKEN) as srv:
            yield srv


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS_DIR", tmp_path / "shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / request.node.callspec.id


def _tab(browser: Browser, width: int) -> tuple[Page, list[str]]:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    return tab, errors


def _shoot(page: Page, shots: Path, name: str) -> None:
    """The view at each width, the whole page; and at 1440 px, how wide main is drawn."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)  # a layout pass; nothing is asserted on time
        page.screenshot(path=f"{shots}-{name}-{width}.png", full_page=True)
        # Nothing pushes the page wider than the screen (a long file name did, at 390 px).
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} at {width} px is {wide} px wide"
    if name == "jobs":
        used = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert used > 1300, used  # at 1440 px the page uses the width (it was ~1160 px)


def _drop(page: Page, files: list[tuple[str, bytes]]) -> None:
    """Drop files on the drop zone as a person dragging them from a file manager would."""
    payload = [(name, base64.b64encode(data).decode()) for name, data in files]
    page.evaluate(
        """(files) => {
          const dt = new DataTransfer();
          for (const [name, b64] of files) {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
          }
          const zone = document.getElementById("drop");
          for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true }));
          }
        }""",
        payload,
    )


def _confirm(page: Page) -> None:
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=page.locator("#confirm-yes").inner_text()).click()


def test_every_view_and_action(
    browser: Browser,  # noqa: F811
    server: ServeProcess,
    shots: Path,
    tmp_path: Path,
) -> None:
    page, errors = _tab(browser, 1440)
    api = server.client()
    # -- the token: asked for, typed, kept for the tab ----------------------------------
    page.goto(server.url + "/")
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("This server needs a token")
    _shoot(page, shots, "token")
    page.get_by_label("Token").fill("wrong")
    page.get_by_label("Token").press("Enter")
    expect(page.locator("#notice")).to_contain_text("The server refused this token")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    expect(page.locator("#token-form")).to_be_hidden()
    assert TOKEN not in page.url
    # -- upload: dropped files, the request's options, per-file results -----------------
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Sizes").fill("48, 96x64")
    page.get_by_label("Format").select_option("png")
    photos = write_jpegs(tmp_path / "photos", 3, size=(320, 240))
    files = [(f"holiday {p.name}", p.read_bytes()) for p in photos]
    files += [("broken.jpg", CORRUPT), (HOSTILE, CORRUPT + b"x"), ("notes.txt", b"just words")]
    _drop(page, files)
    rows = page.locator("#upload-list li")
    expect(rows).to_have_count(6)
    expect(page.locator("#upload-list li[data-outcome=accepted]")).to_have_count(5)
    refused = page.locator("#upload-list li[data-outcome=refused]")
    expect(refused).to_contain_text("not an image")
    _shoot(page, shots, "upload")
    ids = [
        int(h.split("/")[-1])
        for h in page.locator("#upload-list li a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    ]
    finished = wait_jobs(api, ids)
    assert sorted(str(j["state"]) for j in finished) == ["done"] * 3 + ["failed"] * 2
    # -- gallery: the newest thumbnails, live, each a link to its job --------------------
    page.get_by_role("link", name="Gallery").click()
    tiles = page.locator("#gallery-grid a.tile")
    expect(tiles).to_have_count(3)
    for n in range(3):  # the request's first size (48 wide), as PNG
        expect(page.locator("#gallery-grid img").nth(n)).to_have_js_property("naturalWidth", 48)
    _shoot(page, shots, "gallery")
    # -- job view: original name, options, attempts, thumbnails with sizes and links ----
    tiles.first.click()
    expect(page.locator("#job-title")).to_contain_text("holiday ")
    facts = page.locator("#job-facts")
    expect(facts).to_contain_text("upload name")
    expect(facts).to_contain_text("48x48 contain, png")
    expect(page.locator("#job-thumbs figure")).to_have_count(2)
    expect(page.locator("#job-thumbs .dims").first).to_contain_text("\u00d7")
    dims = page.locator("#job-thumbs .dims").all_inner_texts()
    assert any(d.startswith("85\u00d764 px") for d in dims), dims
    expect(page.locator("#job-attempt-rows tr")).to_have_count(1)
    _shoot(page, shots, "job")
    # -- jobs view from a counter: failures by reason, hostile names as text ------------
    page.locator(".count[data-state=failed] a").click()
    expect(page).to_have_url(f"{server.url}/#/jobs?state=failed")
    expect(page.locator("#jobs-rows tr")).to_have_count(2)
    expect(page.locator("#jobs-rows")).to_contain_text(HOSTILE)
    assert page.locator("main b").count() == 0
    assert page.evaluate("window.pwned") is None
    reasons = page.locator("#reason-rows tr")
    expect(reasons).to_have_count(1)  # both corrupt files failed for one reason
    _shoot(page, shots, "jobs")
    # Retry all of one reason: asked first, then said.
    reasons.first.get_by_role("button").click()
    _confirm(page)
    expect(page.locator("#said")).to_contain_text("Retried 2 job(s)")
    wait_jobs(api, ids)
    # -- search by the original name; newest and oldest first --------------------------
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.locator("#jobs-title")).to_have_text("Jobs")
    page.get_by_label("Name contains").fill("HOLIDAY")
    page.get_by_label("Name contains").press("Enter")
    expect(page).to_have_url(f"{server.url}/#/jobs?q=HOLIDAY&order=newest")
    expect(page.locator("#jobs-rows tr")).to_have_count(3)
    newest = page.locator("#jobs-rows tr").first.get_attribute("data-job")
    page.get_by_label("Order").select_option("oldest")
    expect(page.locator("#jobs-rows tr").first).not_to_have_attribute("data-job", str(newest))
    # -- paging: 55 queued jobs while paused, 50 a page, by cursor ----------------------
    page.goto(server.url + "/#/")
    page.get_by_role("button", name="Pause", exact=True).click()
    _confirm(page)
    expect(page.locator("#paused-badge")).to_be_visible()
    more = write_jpegs(tmp_path / "more", 55, size=(40, 30))
    for n in range(0, 55, 11):
        assert upload(api, more[n : n + 11]).status_code == 202
    page.locator(".count[data-state=queued] a").click()
    expect(page.locator("#jobs-rows tr")).to_have_count(50)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#jobs-rows tr")).to_have_count(5)
    expect(page.locator("#jobs-page")).to_have_text("page 2")
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("#jobs-rows tr")).to_have_count(50)
    # Cancel one (asked first), then every queued one.
    first = page.locator("#jobs-rows tr").first
    job_id = first.get_attribute("data-job")
    first.get_by_role("button", name="Cancel").click()
    _confirm(page)
    expect(page.locator("#said")).to_have_text(f"Cancelled job {job_id}")
    assert api.get(f"/jobs/{job_id}").json()["state"] == "cancelled"
    page.get_by_role("button", name="Cancel all queued").click()
    page.locator("#confirm").get_by_role("button", name="Keep things as they are").click()
    assert api.get("/status").json()["queued"] == 54  # "no" changed nothing
    page.get_by_role("button", name="Cancel all queued").click()
    _confirm(page)
    expect(page.locator("#said")).to_have_text("Cancelled 54 queued job(s).")
    # Retry one from the job view, then resume, then clear the finished ones.
    page.goto(f"{server.url}/#/job/{job_id}")
    page.locator("#job-actions").get_by_role("button", name="Retry").click()
    expect(page.locator("#said")).to_have_text(f"Retried job {job_id}")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#paused-badge")).to_be_hidden()
    wait_jobs(api, [int(job_id)])
    page.get_by_role("button", name="Clear finished").click()
    _confirm(page)
    expect(page.locator("#said")).to_contain_text("Cleared ")
    status = api.get("/status").json()
    assert status["done"] + status["failed"] + status["cancelled"] == 0, status
    # The job shown was cleared: the view says so, and it is no server error.
    expect(page.locator("#job-title")).to_have_text(f"Job {job_id}: not in the queue")
    expect(page.locator("#notice")).not_to_contain_text("answered with an error")
    _shoot(page, shots, "overview")
    assert not errors, errors
    api.close()


def test_health_tells_nothing_but_ok(server: ServeProcess) -> None:
    r = httpx.get(server.url + "/health")
    assert r.json() == {"status": "ok"}

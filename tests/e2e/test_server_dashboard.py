"""The dashboard in a real browser: Debian's chromium (headless) driven by Playwright.

Against a real ``thumbgen serve`` on a queue whose jobs a real worker ran:
a few done, one whose source was deleted first (vanished), and failed ones
made from corrupt files, one of them with a name that is HTML. What the
page shows is compared with what ``thumbgen status --json`` prints; its
buttons are checked by their effect on the queue, read back through the
command line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from support.imagegen import write_jpegs
from support.needs import missing
from support.procs import run_thumbgen, status_json, wait_until
from support.redis_server import redis_env, redis_server
from support.server import ServeProcess, served

CHROMIUM = "/usr/bin/chromium"
#: A name a careless page would turn into markup and script.
HOSTILE = '<img src=x onerror="window.pwned=1"> &amp; <b>bold.jpg'
#: Longest wait for the page to show something (a hang guard, not a timing claim).
PATIENCE_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module (each test gets its own context)."""
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is missing (apt-get install -y chromium, as .ci/run does)")
    expect.set_options(timeout=PATIENCE_MS)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab with its own session storage; script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, errors


def run_jobs(folder: Path, env: dict[str, str]) -> Path:
    """Jobs a real worker ran: three done, two failed (corrupt), one vanished; their folder."""
    photos = folder / "photos"
    write_jpegs(photos, 3)
    corrupt = b"\xff\xd8\xff\xe0" + b"not a picture" * 20  # JPEG by its magic, garbage after
    (photos / "broken.jpg").write_bytes(corrupt)
    (photos / HOSTILE).write_bytes(corrupt)
    gone = write_jpegs(photos, 1, prefix="gone")[0]
    added = run_thumbgen("add", str(photos), "-o", str(folder / "thumbs"), env=env)
    assert added.returncode == 0, added.stderr
    gone.unlink()  # deleted before any worker got to it
    worker = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    assert worker.returncode == 0, worker.stderr
    status = status_json(env)
    assert (status["done"], status["failed"], status["vanished"]) == (3, 2, 1), worker.stderr
    return photos


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Those jobs on a queue file, made once: its folder (``queue.db``, ``photos``)."""
    folder = tmp_path_factory.mktemp("ran")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    env |= {"THUMBGEN_QUEUE": str(folder / "queue.db"), "XDG_CONFIG_HOME": str(folder / "cfg")}
    run_jobs(folder, env)
    # Every process has closed the queue, so the file alone is all of it.
    assert not list(folder.glob("queue.db-*")), list(folder.iterdir())
    return folder


@pytest.fixture
def worked(ran: Path, queue_path: str) -> Path:
    """This test's own copy of that queue (at THUMBGEN_QUEUE); returns the photos folder."""
    shutil.copyfile(ran / "queue.db", queue_path)
    return ran / "photos"


def open_dashboard(page: Page, srv: ServeProcess, fragment: str = "") -> None:
    """Load the page and wait for its first successful poll."""
    page.goto(srv.url + "/" + fragment)
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def expect_counts(page: Page, status: dict[str, Any]) -> None:
    """The page shows the numbers of ``status`` for every state."""
    for state in ("queued", "running", "done", "failed", "cancelled", "vanished"):
        expect(page.locator(f"#count-{state}")).to_have_text(str(status[state]))


def failure_row(page: Page, source: str) -> Locator:
    """The failures table's row for ``source`` (matched on its exact text)."""
    cell = page.locator("td.path", has_text=re.compile(f"^{re.escape(source)}$"))
    return page.locator("#failure-rows tr").filter(has=cell)


def test_the_page_shows_what_status_json_says(
    page: Page, worked: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    with served(tmp_path, env, "-w", "2") as srv:
        assert wait_until(lambda: status_json(env)["workers"] == 2, 60), srv.log()
        status = status_json(env)
        open_dashboard(page, srv)
        expect_counts(page, status)
        expect(page.locator("#paused-badge")).to_be_hidden()
        expect(page.locator("#queue-location")).to_have_text(status["queue"])

        rows = page.locator("#worker-rows tr")
        expect(rows).to_have_count(2)
        shown = {tuple(rows.nth(i).locator("td").all_text_contents()[:2]) for i in range(2)}
        assert shown == {(w["host"], str(w["pid"])) for w in status["worker_list"]}

        expect(page.locator("#failure-rows tr")).to_have_count(len(status["failures"]))
        for failure in status["failures"]:
            row = failure_row(page, failure["source"])
            expect(row.locator("td.reason")).to_have_text(failure["error"])
            expect(row.get_by_role("button", name="Retry")).to_be_enabled()


def test_a_hostile_file_name_is_shown_as_text(
    page: Page, worked: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    with served(tmp_path, env, "-w", "0") as srv:
        open_dashboard(page, srv)
        hostile = str(worked / HOSTILE)
        cells = page.locator("#failure-rows td.path")
        expect(cells).to_have_count(2)
        assert hostile in cells.all_text_contents()  # every character, "&amp;" too
        assert page.locator("main img, main b").count() == 0  # no markup was made of it
        assert page.evaluate("window.pwned") is None  # and no script ran


def test_retry_queues_the_failed_job_again(
    page: Page, worked: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    broken = str(worked / "broken.jpg")
    with served(tmp_path, env, "-w", "0") as srv:  # no worker: a retried job stays queued
        open_dashboard(page, srv)
        row = failure_row(page, broken)
        job_id = row.get_attribute("data-job")
        button = row.get_by_role("button", name="Retry")
        button.focus()
        polls = int(page.locator("body").get_attribute("data-polls") or 0)
        page.wait_for_function("n => Number(document.body.dataset.polls) >= n", arg=polls + 1)
        expect(button).to_be_focused()  # live updates leave the focus alone
        page.keyboard.press("Enter")

        expect(page.locator("#count-queued")).to_have_text("1")
        expect(failure_row(page, broken)).to_have_count(0)
        status = status_json(env)
        assert (status["queued"], status["failed"]) == (1, 1)
        shown = run_thumbgen("show", str(job_id), "--json", env=env)
        assert json.loads(shown.stdout)["source"] == broken
        assert json.loads(shown.stdout)["state"] == "queued"


def test_pause_and_resume(page: Page, worked: Path, tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "0") as srv:
        open_dashboard(page, srv)
        expect(page.locator("#resume")).to_be_disabled()
        page.get_by_role("button", name="Pause", exact=True).click()
        # Pausing stops every worker's next job: the page asks first, then says it did.
        dialog = page.locator("#confirm")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Pause", exact=True).click()
        expect(page.locator("#said")).to_have_text("Paused: workers start no new job.")
        expect(page.locator("#paused-badge")).to_be_visible()
        expect(page.locator("#paused-note")).to_be_visible()
        expect(page.locator("#pause")).to_be_disabled()
        assert status_json(env)["paused"] is True

        page.get_by_role("button", name="Resume", exact=True).click()  # not asked: undoes
        expect(page.locator("#said")).to_have_text("Resumed: workers take jobs again.")
        expect(page.locator("#paused-badge")).to_be_hidden()
        expect(page.locator("#paused-note")).to_be_hidden()
        expect(page.locator("#resume")).to_be_disabled()
        assert status_json(env)["paused"] is False


def test_the_token_comes_from_the_fragment_and_a_wrong_one_is_told(
    browser: Browser, page: Page, worked: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    with served(tmp_path, env, "-w", "0", token="s3cret") as srv:
        open_dashboard(page, srv, "#token=s3cret")
        expect(page.locator("#count-done")).to_have_text("3")
        assert "s3cret" not in page.url  # out of the address bar and the history
        page.reload()  # the tab keeps it
        expect(page.locator("#live")).to_have_attribute("data-state", "live")

        other = browser.new_context()
        try:
            wrong = other.new_page()
            wrong.goto(srv.url + "/#token=guess")
            expect(wrong.locator("#notice")).to_contain_text("refused this token")
            expect(wrong.locator("#count-done")).to_have_text("\u2013")  # no number: a dash
            wrong.goto(srv.url + "/")
            wrong.evaluate("sessionStorage.clear()")
            wrong.reload()
            expect(wrong.locator("#notice")).to_contain_text("needs a token")
        finally:
            other.close()

        srv.stop()  # the server goes away under the open page
        expect(page.locator("#notice")).to_contain_text("Disconnected")
        expect(page.locator("#live")).to_have_attribute("data-state", "down")


def test_throughput_over_http_counts_what_the_worker_finished(
    worked: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    # The page and its files over HTTP: tests/api/test_jobs.py.
    with served(tmp_path, env, "-w", "0", token="s3cret") as srv, srv.client(auth=False) as http:
        assert http.get("/throughput").status_code == 401
        through = http.get("/throughput?minutes=60", headers=srv.headers())
        assert through.status_code == 200
        # The fixture's jobs finished within the hour: done and failed ones
        # count, the vanished one does not.
        assert sum(through.json()["minutes"]) == 5
        assert len(through.json()["minutes"]) == 60
        too_many = http.get("/throughput?minutes=61", headers=srv.headers())
        assert too_many.status_code == 422
        assert "minutes" in too_many.json()["error"]


def test_the_page_shows_a_redis_queue_too(page: Page, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        env = redis_env(redis.url, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
        run_jobs(tmp_path, env)
        with served(tmp_path, env, "-w", "0") as srv:
            status = status_json(env)
            open_dashboard(page, srv)
            expect_counts(page, status)
            expect(page.locator("#queue-location")).to_have_text(status["queue"])
            expect(page.locator("#failure-rows tr")).to_have_count(2)
            expect(page.locator("#chart-svg rect")).to_have_count(15)  # one bar a minute
            # Done and failed jobs in the chart (they finished moments ago).
            expect(page.locator("#throughput-summary")).to_contain_text(", 5 in 15 min")

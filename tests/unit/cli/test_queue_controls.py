"""Queue controls through the command line: jobs, show, cancel, retry, dry runs, priorities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.imagegen import write_jpegs
from typer.testing import CliRunner

from thumbgen.cli.app import app
from thumbgen.jobqueue.backend import open_queue
from thumbgen.workers import runner as job_runner
from thumbgen.workers.retry import RetryPolicy

cli = CliRunner()


def invoke(*args: str) -> Any:
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def as_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_jobs(queue_path: str, count: int) -> None:
    """Run ``count`` jobs in this process, as a worker would."""
    queue = open_queue(queue_path)
    try:
        for _ in range(count):
            job_runner.run_next(queue.store, "test-worker", RetryPolicy(attempts=1))
    finally:
        queue.close()


@pytest.fixture
def three(tmp_path: Path) -> Path:
    write_jpegs(tmp_path / "src", 3)
    assert invoke("add", str(tmp_path / "src"), "-o", str(tmp_path / "out")).exit_code == 0
    return tmp_path


def test_jobs_lists_every_job_newest_first(three: Path) -> None:
    listed = as_json("jobs")
    assert [j["state"] for j in listed] == ["queued"] * 3
    assert sorted(Path(j["source"]).name for j in listed) == [
        "img0000.jpg",
        "img0001.jpg",
        "img0002.jpg",
    ]
    table = invoke("jobs").stdout
    assert "img0001.jpg" in table
    assert "queued" in table


def test_show_gives_a_job_with_each_attempt(three: Path, queue_path: str) -> None:
    run_jobs(queue_path, 3)
    by_source = as_json("show", str(three / "src" / "img0001.jpg"))
    assert by_source["state"] == "done"
    assert by_source["sizes"] == ["256x256"]
    assert [a["outcome"] for a in by_source["attempt_list"]] == ["done"]
    assert by_source["outputs"] == [str(three / "out" / "img0001_256x256.jpg")]
    by_id = as_json("show", str(by_source["id"]))
    assert by_id["source"] == by_source["source"]
    assert "attempt" in invoke("show", str(by_source["id"])).stdout


def test_show_names_the_planned_outputs_of_a_job_not_yet_done(tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    write_jpegs(tmp_path / "src" / "sub", 1)
    out = tmp_path / "out"
    added = invoke("add", str(tmp_path / "src"), "-o", str(out), "-s", "64", "-s", "128x")
    assert added.exit_code == 0, added.output
    shown = as_json("show", str(tmp_path / "src" / "sub" / "img0000.jpg"))
    assert shown["outputs"] == []
    assert shown["planned"] == [
        {
            "kind": "thumbnail",
            "size": size,
            "path": str(out / "sub" / f"img0000_{size}.{{jpg,png}}"),
            "content_types": ["image/jpeg", "image/png"],
        }
        for size in ("64x64", "128x")
    ]
    table = invoke("show", str(tmp_path / "src" / "sub" / "img0000.jpg")).stdout
    rows = [line.split()[0] for line in table.splitlines() if line.strip()]
    assert rows.count("planned") == 2  # one row per output (paths cut to the terminal)


def test_cancel_by_id_by_source_and_all(three: Path) -> None:
    ids = sorted(j["id"] for j in as_json("jobs"))
    assert invoke("cancel", str(ids[0])).stdout == "1 cancelled\n"
    assert invoke("cancel", str(three / "src" / "img0001.jpg")).stdout == "1 cancelled\n"
    assert invoke("cancel", "--all").stdout == "1 cancelled\n"
    data = as_json("status")
    assert (data["queued"], data["cancelled"]) == (0, 3)
    # A cancelled, unchanged source is queued again by the next add.
    again = invoke("add", str(three / "src"), "-o", str(three / "out"))
    assert again.stdout.startswith("3 queued")


def test_retry_named_jobs_only(three: Path, queue_path: str) -> None:
    for path in (three / "src").iterdir():
        path.write_bytes(b"\xff\xd8\xff broken")  # still sniffs as JPEG, fails to decode
    invoke("add", str(three / "src"), "-o", str(three / "out"), "--force")
    run_jobs(queue_path, 3)
    assert as_json("status")["failed"] == 3
    first = sorted(j["id"] for j in as_json("jobs", "--state", "failed"))[0]
    assert invoke("retry", str(first)).stdout == "1 queued again\n"
    data = as_json("status")
    assert (data["queued"], data["failed"]) == (1, 2)
    assert invoke("retry").stdout == "2 queued again\n"


def test_a_dry_run_says_what_would_happen_and_writes_nothing(three: Path) -> None:
    write_jpegs(three / "more", 2, prefix="m")
    report = as_json("add", str(three / "more"), "-o", str(three / "out"), "--dry-run")
    assert report["dry_run"] is True
    assert len(report["would_queue"]) == 2
    known = as_json("add", str(three / "src"), "-o", str(three / "out"), "--dry-run")
    assert (known["would_queue"], known["already_queued"]) == ([], 3)
    assert as_json("status")["queued"] == 3
    text = invoke("add", str(three / "more"), "--dry-run").stderr
    assert "would queue" in text


def test_higher_priority_runs_first(tmp_path: Path, queue_path: str) -> None:
    write_jpegs(tmp_path / "backlog", 3)
    write_jpegs(tmp_path / "urgent", 1, prefix="u")
    out = str(tmp_path / "out")
    invoke("add", str(tmp_path / "backlog"), "-o", out)
    invoke("add", str(tmp_path / "urgent"), "-o", out, "--priority", "5")
    run_jobs(queue_path, 1)
    done = as_json("jobs", "--state", "done")
    assert [Path(j["source"]).name for j in done] == ["u0000.jpg"]
    assert done[0]["priority"] == 5


def test_clear_older_than_keeps_recent_jobs(three: Path, queue_path: str) -> None:
    run_jobs(queue_path, 3)
    assert invoke("clear", "--older-than", "7d").stdout == "0 jobs cleared\n"
    assert invoke("clear", "--older-than", "0s").stdout == "3 jobs cleared\n"


def test_add_json_reports_each_outcome(three: Path) -> None:
    report = as_json("add", str(three / "src"), "-o", str(three / "out"))
    assert (report["queued"], report["already_queued"], report["dry_run"]) == (0, 3, False)


def test_the_queue_option_is_accepted_after_the_command(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "src", 1)
    other = str(tmp_path / "other.db")
    assert invoke("add", str(tmp_path / "src"), "--queue", other).exit_code == 0
    assert as_json("status", "--queue", other)["queued"] == 1


def test_status_json_shows_pause(three: Path) -> None:
    assert invoke("pause").exit_code == 0
    assert as_json("status")["paused"] is True
    assert "paused\tyes\n" in invoke("status").stdout  # piped: tab-separated
    assert invoke("resume").exit_code == 0
    assert as_json("status")["paused"] is False


def test_piped_jobs_are_one_tab_separated_line_each_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / ("and-another-one-" * 4)
    write_jpegs(deep, 3, prefix="a-long-photo-name-" * 3)
    assert invoke("add", str(deep), "-o", str(tmp_path / "out")).exit_code == 0
    lines = invoke("jobs").stdout.splitlines()  # CliRunner's stdout is no terminal
    assert len(lines) == 3
    rows = [line.split("\t") for line in lines]
    assert {len(row) for row in rows} == {6}
    assert sorted(Path(row[4]).parent for row in rows) == [deep] * 3
    assert [row[1] for row in rows] == ["queued"] * 3
    shown = dict(line.split("\t", 1) for line in invoke("show", rows[0][0]).stdout.splitlines())
    assert shown["source"] == rows[0][4]
    assert shown["state"] == "queued"
    status = dict(line.split("\t") for line in invoke("status").stdout.splitlines())
    assert status["queued"] == "3"


def test_every_command_that_prints_data_has_json(three: Path) -> None:
    ids = sorted(j["id"] for j in as_json("jobs"))
    assert as_json("cancel", str(ids[0])) == {"cancelled": 1}
    assert as_json("retry", str(ids[0])) == {"queued_again": 1}
    assert as_json("cancel", "--all") == {"cancelled": 3}
    assert as_json("clear") == {"cleared": 3}
    config = as_json("config")
    assert {"config_file", "found", "settings"} <= set(config)
    size = next(s for s in config["settings"] if s["name"] == "size")
    assert size["value"] == ["256"]

"""The dashboard's API in-process: pages by cursor, search, reasons, labels, bulk actions.

As in test_jobs.py no worker runs: jobs are claimed, failed and finished
through the real store, as a worker would.
"""

from __future__ import annotations

from pathlib import Path

from support.imagegen import write_jpegs
from support.inprocess import ApiClient, InProcessServer
from test_jobs import fail_next, finish_next, queued


def _walk(http: ApiClient, **params: object) -> list[list[int]]:
    """Every page of ``GET /jobs`` by following ``X-Next-Cursor``."""
    pages: list[list[int]] = []
    cursor = None
    while True:
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        r = http.get("/jobs", params=query)
        assert r.status_code == 200, r.text
        pages.append([j["id"] for j in r.json()])
        cursor = r.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in r.headers
            return pages
        assert r.headers["link"].endswith('; rel="next"')
        assert f"cursor={cursor}" in r.headers["link"]


def test_jobs_page_by_cursor_newest_or_oldest_first(http: ApiClient, tmp_path: Path) -> None:
    ids = queued(http, tmp_path / "in", 5)
    assert _walk(http, limit=2) == [ids[:2], ids[2:4], ids[4:]]
    assert _walk(http, limit=2, order="newest") == [ids[:2:-1], ids[2:0:-1], ids[:1]]
    assert _walk(http, limit=5) == [ids]  # a full last page has no next


def test_jobs_of_one_state_and_searched_by_upload_name(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    names = ["Beach day.jpg", "beach-night.jpg", "mountain.jpg"]
    ids = []
    for n, name in enumerate(names):
        [path] = write_jpegs(folder, 1, prefix=f"x{n}-")
        r = http.post("/thumbnails", files=[("file", (name, path.read_bytes()))])
        ids.append(r.json()["files"][0]["id"])
    fail_next(srv, "truncated")
    found = http.get("/jobs", params={"q": "BEACH", "order": "newest"}).json()
    assert [(j["id"], j["label"]) for j in found] == [(ids[1], names[1]), (ids[0], names[0])]
    assert [
        j["id"] for j in http.get("/jobs", params={"q": "beach", "state": "queued"}).json()
    ] == [ids[1]]
    assert http.get("/jobs", params={"q": "nothing like it"}).json() == []
    detail = http.get(f"/jobs/{ids[2]}").json()
    assert detail["label"] == "mountain.jpg"
    assert "mountain" not in detail["source"]  # stored by content: the name is a label only


def test_a_hostile_upload_name_is_a_label_never_a_path(http: ApiClient, tmp_path: Path) -> None:
    [path] = write_jpegs(tmp_path / "in", 1)
    name = '../../etc/<img src=x onerror="alert(1)">\r\nX-Header: 1.jpg'
    r = http.post("/thumbnails", files=[("file", (name, path.read_bytes()))])
    job = http.get(r.json()["files"][0]["url"]).json()
    assert job["label"] == '../../etc/<img src=x onerror="alert(1)">  X-Header: 1.jpg'
    assert "etc" not in job["source"]


def test_failures_are_grouped_and_retried_by_reason(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    queued(http, tmp_path / "in", 5)
    for error in ["truncated", "not an image", "truncated", "truncated"]:
        fail_next(srv, error)
    reasons = http.get("/failures").json()["reasons"]
    assert reasons == [{"error": "truncated", "count": 3}, {"error": "not an image", "count": 1}]
    by_reason = http.get("/jobs", params={"state": "failed", "error": "truncated"}).json()
    assert len(by_reason) == 3
    assert http.post("/jobs/retry", params={"error": "truncated"}).json() == {"retried": 3}
    assert http.get("/failures").json()["reasons"] == [{"error": "not an image", "count": 1}]
    assert http.post("/jobs/retry").json() == {"retried": 1}
    assert http.get("/status").json()["queued"] == 5
    assert http.post("/jobs/retry").json() == {"retried": 0}


def test_cancel_takes_a_queued_job_out_and_refuses_others(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    done_id, queued_id = queued(http, tmp_path / "in", 2)
    finish_next(srv, [])
    assert http.post(f"/jobs/{queued_id}/cancel").json() == {"cancelled": 1}
    assert http.get(f"/jobs/{queued_id}").json()["state"] == "cancelled"
    for job_id, state in ((done_id, "done"), (queued_id, "cancelled")):
        r = http.post(f"/jobs/{job_id}/cancel")
        assert r.status_code == 409
        assert r.json() == {"error": f"Job {job_id} is {state}: only queued jobs are cancelled"}
    assert http.post("/jobs/99999/cancel").json() == {"error": "No job 99999"}
    more = queued(http, tmp_path / "more", 2)
    assert http.post("/jobs/cancel").json() == {"cancelled": 2}
    assert {http.get(f"/jobs/{i}").json()["state"] for i in more} == {"cancelled"}


def test_clear_forgets_finished_jobs_only(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    ids = queued(http, tmp_path / "in", 4)
    finish_next(srv, [])
    fail_next(srv, "broken")
    assert http.post("/jobs/clear", params={"state": "done"}).json() == {"cleared": 1}
    refused = http.post("/jobs/clear", params={"state": "queued"})
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("Only finished jobs are cleared, not queued")
    assert http.post("/jobs/clear", params={"older_than": "1d"}).json() == {"cleared": 0}
    assert http.post("/jobs/clear").json() == {"cleared": 1}
    assert [j["id"] for j in http.get("/jobs").json()] == ids[2:]
    bad = http.post("/jobs/clear", params={"older_than": "7"})
    assert bad.status_code == 422
    assert "unit" in bad.json()["error"]


def test_paging_parameters_are_checked(http: ApiClient) -> None:
    for params, field in (
        ({"cursor": 0}, "cursor"),
        ({"cursor": "x"}, "cursor"),
        ({"order": "sideways"}, "order"),
        ({"q": "x" * 201}, "q"),
    ):
        r = http.get("/jobs", params=params)
        assert r.status_code == 422, params
        assert r.json()["error"].startswith(f"Invalid {field}: "), r.text


def test_too_many_form_fields_are_refused_before_they_add_up(http: ApiClient) -> None:
    r = http.post("/thumbnails", data={"size": ["64"] * 65}, files=[("file", ("a.jpg", b"x"))])
    assert r.status_code == 413
    assert r.json() == {"error": "Too many form fields: at most 64 in one request"}
    boundary = "b0undary"
    empty = f"--{boundary}\r\n\r\n\r\n".encode() * 10_000 + f"--{boundary}--\r\n".encode()
    r = http.post(
        "/thumbnails",
        content=empty,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413

"""Uploading through a real ``thumbgen serve`` with a real HTTP client (httpx).

The original service's cases first (one file, a hundred files in one
request), then what users of an upload API run into: a non-image among
images, the same file twice, hostile file names, and the thumbnails served
back with their caching headers. What needs no worker (no file, bad option
values and the other refusals) is in tests/api/test_uploads.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image
from support.imagegen import huge_header_png
from support.procs import run_thumbgen
from support.redis_server import tiny_jpegs
from support.server import served, upload, wait_jobs


def photos_in(
    folder: Path, count: int, size: tuple[int, int] = (96, 64), prefix: str = "img"
) -> list[Path]:
    """``count`` JPEGs of distinct content (distinct colours survive JPEG, unlike one pixel)."""
    paths = tiny_jpegs(folder, count, size)
    return [p.rename(p.with_name(prefix + p.name)) for p in paths]


def test_one_upload_becomes_a_done_job_with_a_working_thumbnail_url(
    tmp_path: Path, env: dict[str, str]
) -> None:
    [photo] = photos_in(tmp_path / "in", 1, size=(640, 480))
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        r = upload(http, [photo])
        assert r.status_code == 202, r.text
        [entry] = r.json()["files"]
        assert entry["status"] == 202
        assert entry["file"] == photo.name
        assert entry["url"] == f"/jobs/{entry['id']}"
        [job] = wait_jobs(http, [entry["id"]])
        assert job["state"] == "done", job
        assert job["attempts"] == 1
        assert job["error"] is None
        [url] = job["thumbnails"]
        thumb = http.get(url)
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/jpeg"
        assert "max-age" in thumb.headers["cache-control"]
        with Image.open(io.BytesIO(thumb.content)) as img:
            assert img.size == (256, 192)
        head = http.head(url)
        assert head.status_code == 200
        assert head.headers["etag"] == thumb.headers["etag"]
        assert head.content == b""
        again = http.get(url, headers={"If-None-Match": thumb.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""


def srv_uploads(tmp_path: Path) -> Path:
    """The default uploads folder beside ``tmp_path/thumbs``."""
    return tmp_path / "thumbs-uploads"


def test_a_hundred_files_in_one_request_all_end_done(tmp_path: Path, env: dict[str, str]) -> None:
    photos = photos_in(tmp_path / "in", 100)
    with served(tmp_path, env, "-w", "2") as srv, srv.client() as http:
        r = upload(http, photos, size="64")
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["accepted"] == 100
        assert body["refused"] == 0
        ids = [e["id"] for e in body["files"]]
        assert len(set(ids)) == 100
        jobs = wait_jobs(http, ids)
        assert [j["state"] for j in jobs] == ["done"] * 100
        assert all(len(j["thumbnails"]) == 1 for j in jobs)
    assert len(list((tmp_path / "thumbs").iterdir())) == 100


def test_a_non_image_is_415_while_the_images_beside_it_are_accepted(
    tmp_path: Path, env: dict[str, str]
) -> None:
    a, b = photos_in(tmp_path / "in", 2)
    notes = tmp_path / "in" / "notes.jpg"  # an image name, text inside: sniffed by content
    notes.write_text("not a picture\n")
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        r = upload(http, [a, notes, b])
        assert r.status_code == 202, r.text
        files = r.json()["files"]
        assert [f["status"] for f in files] == [202, 415, 202]
        assert files[1]["file"] == "notes.jpg"
        assert "not an image" in files[1]["error"]
        assert "id" not in files[1]
        wait_jobs(http, [files[0]["id"], files[2]["id"]])
        alone = upload(http, [notes])
        assert alone.status_code == 415
        assert "not an image" in alone.json()["error"]
    stored = sorted(p.suffix for p in srv_uploads(tmp_path).iterdir())
    assert stored == [".jpg", ".jpg"]  # the text file was not kept


def test_the_same_file_uploaded_twice_is_one_job(tmp_path: Path, env: dict[str, str]) -> None:
    [photo] = photos_in(tmp_path / "in", 1)
    copy = tmp_path / "elsewhere.jpg"
    copy.write_bytes(photo.read_bytes())
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        first = upload(http, [photo, copy]).json()["files"]
        assert first[0]["id"] == first[1]["id"]
        wait_jobs(http, [first[0]["id"]])
        later = upload(http, [copy]).json()["files"][0]
        assert later["id"] == first[0]["id"]
        assert later["outcome"] == "up_to_date"
        assert later["state"] == "done"
        assert http.get("/status").json()["done"] == 1
        # Other sizes are another job; asking for the first sizes again finds the first.
        other = upload(http, [photo], size="32").json()["files"][0]
        assert other["id"] != first[0]["id"]
        wait_jobs(http, [other["id"]])
        again = upload(http, [photo]).json()["files"][0]
        assert again["id"] == first[0]["id"]
        assert again["outcome"] == "up_to_date"
    assert len(list(srv_uploads(tmp_path).iterdir())) == 1


def test_request_options_shape_the_thumbnails(tmp_path: Path, env: dict[str, str]) -> None:
    [photo] = photos_in(tmp_path / "in", 1, size=(400, 200))
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        r = upload(http, [photo], size=["100", "50x"], fit="cover", format="png", quality="70")
        [job] = wait_jobs(http, [r.json()["files"][0]["id"]])
        assert job["state"] == "done"
        assert job["sizes"] == ["100x100", "50x"]
        sizes = []
        for url in job["thumbnails"]:
            thumb = http.get(url)
            assert thumb.headers["content-type"] == "image/png"
            sizes.append(Image.open(io.BytesIO(thumb.content)).size)
        assert sorted(sizes) == [(50, 25), (100, 100)]


def test_hostile_file_names_never_reach_the_file_system(
    tmp_path: Path, env: dict[str, str]
) -> None:
    [photo] = photos_in(tmp_path / "in", 1)
    data = photo.read_bytes()
    names = ["../../etc/passwd", "/tmp/evil.jpg", "..\\..\\x.jpg", "a\nb.jpg", ""]
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        files = [("file", (n, data)) for n in names]
        r = http.post("/thumbnails", files=files)
        assert r.status_code == 202, r.text
        ids = {f["id"] for f in r.json()["files"]}
        assert len(ids) == 1  # one content, one job, whatever the names
        [job] = wait_jobs(http, list(ids))
        assert Path(str(job["source"])).parent == srv_uploads(tmp_path)
    assert not Path("/tmp/evil.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "in",
        "thumbs",
        "thumbs-uploads",
    ]
    [stored] = srv_uploads(tmp_path).iterdir()
    assert len(stored.stem) == 64
    assert stored.suffix == ".jpg"


def test_uploads_and_add_share_one_queue_in_status(tmp_path: Path, env: dict[str, str]) -> None:
    added = photos_in(tmp_path / "added", 3, prefix="cli")
    uploaded = photos_in(tmp_path / "uploaded", 2, prefix="http", size=(80, 60))
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        cli = run_thumbgen("add", str(tmp_path / "added"), "-o", str(tmp_path / "cli"), env=env)
        assert cli.returncode == 0, cli.stderr
        ids = [f["id"] for f in upload(http, uploaded).json()["files"]]
        wait_jobs(http, ids)
        all_ids = [j["id"] for j in http.get("/jobs", params={"limit": 100}).json()]
        wait_jobs(http, all_ids)
        status = run_thumbgen("status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        counts = json.loads(status.stdout)
        assert counts["done"] == 5
        assert counts["queued"] == 0
        assert http.get("/status").json()["done"] == 5
        sources = {Path(j["source"]).parent for j in http.get("/jobs").json()}
        assert sources == {tmp_path / "added", srv_uploads(tmp_path)}
        cli_job = next(j for j in http.get("/jobs").json() if "added" in j["source"])
        shown = http.get(f"/jobs/{cli_job['id']}").json()
        assert shown["outputs"]  # written under its own -o, which this server does not serve
        assert shown["thumbnails"] == []
    assert len(added) == len(list((tmp_path / "cli").iterdir()))


def test_the_server_only_sniffs_and_the_worker_refuses_a_bomb(
    tmp_path: Path, env: dict[str, str]
) -> None:
    bomb = huge_header_png(tmp_path / "bomb.png")  # 10 gigapixels declared, a few bytes
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        before = srv.rss_kib()
        r = upload(http, [bomb])
        assert r.status_code == 202, r.text
        [job] = wait_jobs(http, [r.json()["files"][0]["id"]])
        assert job["state"] == "failed"
        assert "pixels" in str(job["error"])
        assert srv.rss_kib() - before < 20 * 1024
        assert http.get("/health").status_code == 200

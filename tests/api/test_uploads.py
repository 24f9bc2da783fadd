"""``POST /thumbnails`` in-process: what is accepted, stored and queued, and every refusal.

The uploads are real images from support.imagegen, stored on disk and
queued in a real SQLite queue; no worker runs, so accepted jobs stay
queued (tests/e2e/test_server_uploads.py follows them to thumbnails).
After any refusal nothing is kept: no stored file, no temporary file, no job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from support.imagegen import png_named_jpg, text_as_jpg, write_jpegs
from support.inprocess import ApiClient, InProcessServer
from support.server import upload

MiB = 1024 * 1024


def photos(folder: Path, count: int, size: tuple[int, int] = (64, 48)) -> list[Path]:
    """``count`` JPEGs of different content, each from its own noise.

    (One write_jpegs call makes its files from one noise image with a marker
    pixel that JPEG may smooth away: neighbours can come out byte-identical.)
    """
    return [write_jpegs(folder, 1, size, prefix=f"p{i}-")[0] for i in range(count)]


def stored_names(srv: InProcessServer) -> list[str]:
    """Every file in the uploads folder (temporary ones included)."""
    return sorted(p.name for p in srv.uploads_dir.iterdir())


def test_an_upload_is_stored_by_content_and_queued(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [photo] = write_jpegs(tmp_path / "in", 1, size=(320, 240))
    r = upload(http, [photo])
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["refused"]) == (1, 0)
    [entry] = body["files"]
    assert entry == {
        "file": photo.name,
        "status": 202,
        "id": entry["id"],
        "state": "queued",
        "outcome": "queued",
        "url": f"/jobs/{entry['id']}",
        "error": None,
    }
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert stored_names(srv) == [f"{digest}.jpg"]
    job = http.get(entry["url"]).json()
    assert job["source"] == str(srv.uploads_dir / f"{digest}.jpg")
    assert (job["state"], job["attempts"], job["error"]) == ("queued", 0, None)
    assert job["sizes"] == ["256x256"]  # the server's own options
    assert job["out_dir"] == str(srv.out_dir)
    assert job["thumbnails"] == []
    assert [j["id"] for j in http.get("/jobs").json()] == [entry["id"]]
    assert http.get("/status").json()["queued"] == 1


def test_request_fields_set_the_jobs_sizes(http: ApiClient, tmp_path: Path) -> None:
    [photo] = write_jpegs(tmp_path / "in", 1)
    r = upload(http, [photo], size=["100", "50x"], fit="cover", format="png", quality="70")
    assert r.status_code == 202, r.text
    job = http.get(r.json()["files"][0]["url"]).json()
    assert job["sizes"] == ["100x100", "50x"]


def test_a_file_part_without_a_filename_is_still_a_file(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    # What curl -F 'file=<a.jpg' sends: the bytes under the name "file", no filename.
    [photo] = write_jpegs(tmp_path / "in", 1)
    boundary = "xyz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'.encode()
        + photo.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    r = http.post(
        "/thumbnails",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["files"][0]["file"] == ""
    assert len(stored_names(srv)) == 1


def test_the_same_content_is_one_job_whatever_its_names(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [photo] = write_jpegs(tmp_path / "in", 1)
    data = photo.read_bytes()
    names = ["../../etc/passwd", "/tmp/evil.jpg", "..\\..\\x.jpg", "a\nb.jpg", "ok.jpg"]
    r = http.post("/thumbnails", files=[("file", (n, data)) for n in names])
    assert r.status_code == 202, r.text
    files = r.json()["files"]
    assert len({f["id"] for f in files}) == 1
    # Echoed back (httpx escapes the newline on the way), never used as a path.
    assert [f["file"] for f in files if "b.jpg" not in f["file"]] == [
        n for n in names if "b.jpg" not in n
    ]
    again = upload(http, [photo]).json()["files"][0]
    assert again["id"] == files[0]["id"]
    assert again["state"] == "queued"
    [stored] = srv.uploads_dir.iterdir()
    assert len(stored.stem) == 64
    assert stored.suffix == ".jpg"
    assert http.get(f"/jobs/{again['id']}").json()["source"] == str(stored)
    assert not Path("/tmp/evil.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["in", "thumbs-uploads"]


def test_the_stored_extension_follows_the_content(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    png = png_named_jpg(tmp_path / "really-a-png.jpg")
    [jpeg] = write_jpegs(tmp_path / "in", 1)
    named = tmp_path / "photo.jpeg"
    named.write_bytes(jpeg.read_bytes())
    r = upload(http, [png, named])
    assert [f["status"] for f in r.json()["files"]] == [202, 202]
    assert sorted(Path(n).suffix for n in stored_names(srv)) == [".jpeg", ".png"]


def test_a_non_image_is_415_per_file_beside_accepted_images(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    a, b = photos(tmp_path / "in", 2)
    notes = text_as_jpg(tmp_path / "in" / "notes.jpg")  # an image name, text inside
    r = upload(http, [a, notes, b])
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["refused"]) == (2, 1)
    assert "error" not in body
    files = body["files"]
    assert [f["status"] for f in files] == [202, 415, 202]
    assert files[1]["file"] == "notes.jpg"
    assert files[1]["error"].startswith("'notes.jpg': ")
    assert "not an image" in files[1]["error"]
    assert "id" not in files[1]
    assert sorted(Path(n).suffix for n in stored_names(srv)) == [".jpg", ".jpg"]
    assert len(http.get("/jobs").json()) == 2


def test_only_non_images_is_415_with_the_list_and_an_error_line(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    notes = text_as_jpg(tmp_path / "notes.jpg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    r = upload(http, [notes, empty])
    assert r.status_code == 415
    body = r.json()
    assert (body["accepted"], body["refused"]) == (0, 2)
    assert [f["status"] for f in body["files"]] == [415, 415]
    assert body["error"] == body["files"][0]["error"]
    assert "not an image" in body["error"]
    assert "\n" not in body["error"]
    assert stored_names(srv) == []
    assert http.get("/jobs").json() == []


def test_too_many_files_is_413_and_keeps_none(
    serve: Callable[..., InProcessServer], tmp_path: Path
) -> None:
    srv = serve(max_files=2)
    three = photos(tmp_path / "in", 3)
    with srv.client() as http:
        assert upload(http, three[:2]).status_code == 202
        r = upload(http, three)
        assert r.status_code == 413
        assert r.json() == {"error": "Too many files: at most 2 in one request"}
        assert len(http.get("/jobs").json()) == 2  # the first request's
    assert len(stored_names(srv)) == 2


def test_a_file_over_the_size_limit_is_413_and_nothing_is_left(
    serve: Callable[..., InProcessServer], tmp_path: Path
) -> None:
    srv = serve(max_upload_bytes=1 * MiB)
    [small, big] = [
        *write_jpegs(tmp_path / "small", 1),
        *write_jpegs(tmp_path / "big", 1, size=(1600, 1600)),
    ]
    assert big.stat().st_size > MiB  # noise: it does not compress below the limit
    with srv.client() as http:
        r = upload(http, [small, big])
        assert r.status_code == 413
        assert r.json() == {"error": f"'{big.name}' is larger than the 1 MiB limit"}
        assert http.get("/jobs").json() == []
    assert stored_names(srv) == []


def test_a_body_declared_beyond_every_limit_is_413_before_it_is_read(
    serve: Callable[..., InProcessServer], tmp_path: Path
) -> None:
    srv = serve(max_upload_bytes=1 * MiB, max_files=1)
    [big] = write_jpegs(tmp_path / "big", 1, size=(1600, 1600))
    with srv.client() as http:
        r = upload(http, [big])
        assert r.status_code == 413
        assert r.json() == {"error": "The request is larger than the upload limits allow"}
    assert stored_names(srv) == []


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (None, b"", "Send the images as multipart/form-data"),
        ("application/json", b'{"file": "a.jpg"}', "Send the images as multipart/form-data"),
        ("multipart/form-data", b"--b\r\n", "Send the images as multipart/form-data"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc',
            "The multipart body ends before its closing boundary",
        ),
        ("multipart/form-data; boundary=b", b"--x\r\ngarbage\r\n--x--\r\n", "Malformed"),
    ],
    ids=["no-type", "json", "no-boundary", "cut-short", "other-boundary"],
)
def test_a_body_that_is_not_a_whole_multipart_form_is_400(
    srv: InProcessServer, http: ApiClient, content_type: str | None, body: bytes, message: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post("/thumbnails", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(message)
    assert stored_names(srv) == []


def test_a_long_field_is_400(srv: InProcessServer, http: ApiClient, tmp_path: Path) -> None:
    [photo] = write_jpegs(tmp_path / "in", 1)
    r = upload(http, [photo], size="1" * 2000)
    assert r.status_code == 400
    assert r.json() == {"error": "Field 'size' is too long"}
    assert stored_names(srv) == []


# Moved from tests/e2e/test_server_uploads.py (no worker needed); assertions unchanged.


def test_a_request_without_a_file_is_400_with_a_clear_message(
    srv: InProcessServer, http: ApiClient
) -> None:
    only_field = http.post("/thumbnails", files={"size": (None, "128")})
    assert only_field.status_code == 400
    assert "No file" in only_field.json()["error"]
    empty = http.post("/thumbnails")
    assert empty.status_code == 400
    assert "multipart/form-data" in empty.json()["error"]
    assert list(srv.uploads_dir.iterdir()) == []


BAD_FIELDS = [
    ({"quality": "abc"}, 422, "Invalid quality 'abc'"),
    ({"quality": "0"}, 422, "Invalid quality 0"),
    ({"fit": "squash"}, 422, "Invalid fit 'squash'"),
    ({"format": "bmp"}, 422, "Invalid format 'bmp'"),
    ({"size": "0x0"}, 422, "Invalid size '0x0'"),
    ({"size": ["64", "128"], "fit": ["cover", "pad"]}, 400, "Give fit once"),
    ({"out": "/etc"}, 400, "Unknown field 'out'"),
]


def test_bad_option_values_are_refused_in_one_line_and_nothing_is_kept(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [photo] = write_jpegs(tmp_path / "in", 1)
    for fields, status, message in BAD_FIELDS:
        r = upload(http, [photo], **fields)
        assert r.status_code == status, (fields, r.text)
        error = r.json()["error"]
        assert error.startswith(message), (fields, error)
        assert "\n" not in error
    assert http.get("/status").json()["queued"] == 0
    assert list(srv.uploads_dir.iterdir()) == []

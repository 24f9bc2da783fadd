"""What ``thumbgen serve`` refuses: paths out of the output folder, missing tokens, unsafe binds.

Traversal URLs are sent over a raw socket as well as with httpx, because a
client library normalises ``..`` away before the server could see it.
"""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

import pytest
from PIL import Image
from support.procs import run_thumbgen
from support.redis_server import tiny_jpegs
from support.server import served, upload, wait_jobs


def raw_get(port: int, target: str) -> int:
    """The status of ``GET target`` sent byte for byte, with no client normalising it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while b"\r\n" not in reply:
            data = s.recv(4096)
            if not data:
                break
            reply += data
    return int(reply.split(b" ", 2)[1])


def test_thumbnail_urls_cannot_leave_the_output_folder(tmp_path: Path, env: dict[str, str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private\n")
    out = tmp_path / "thumbs"
    out.mkdir()
    (out / "inside.jpg").write_bytes(tiny_jpegs(tmp_path / "in", 1)[0].read_bytes())
    (out / "escape.jpg").symlink_to(secret)
    (out / "dir").symlink_to(tmp_path)
    with served(tmp_path, env, "-w", "0") as srv, srv.client() as http:
        assert http.get("/thumbnails/inside.jpg").status_code == 200
        for target in (
            "/thumbnails/../secret.txt",
            "/thumbnails/%2e%2e/secret.txt",
            "/thumbnails/%2E%2E%2Fsecret.txt",
            "/thumbnails/..%2fsecret.txt",
            "/thumbnails/x/../../secret.txt",
            "/thumbnails/%2Fetc%2Fpasswd",
            "/thumbnails//etc/passwd",
            "/thumbnails/..%5csecret.txt",
        ):
            status = raw_get(srv.port, target)
            assert status in (400, 404), (target, status)
        for path in ("escape.jpg", "dir/secret.txt", "dir/in/img0000.jpg", "missing.jpg"):
            r = http.get(f"/thumbnails/{path}")
            assert r.status_code == 404, (path, r.status_code)
            assert r.json() == {"error": "No such thumbnail"}
        assert "private" not in srv.log()


def test_with_a_token_every_data_endpoint_needs_it(tmp_path: Path, env: dict[str, str]) -> None:
    [photo] = tiny_jpegs(tmp_path / "in", 1)
    with served(tmp_path, env, "-w", "1", token="s3cret-token") as srv:
        with srv.client(auth=False) as anon:
            assert anon.get("/health").status_code == 200  # for load balancers
            for method, path in [
                ("GET", "/status"),
                ("GET", "/jobs"),
                ("GET", "/jobs/1"),
                ("POST", "/jobs/1/retry"),
                ("POST", "/queue/pause"),
                ("POST", "/queue/resume"),
                ("POST", "/thumbnails"),
                ("GET", "/thumbnails/x.jpg"),
            ]:
                r = anon.request(method, path)
                assert r.status_code == 401, (method, path, r.status_code)
                assert "token" in r.json()["error"]
                assert r.headers["www-authenticate"] == "Bearer"
            wrong = anon.get("/status", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert upload(anon, [photo]).status_code == 401
        with srv.client() as http:
            assert http.get("/status").status_code == 200
            r = upload(http, [photo])
            assert r.status_code == 202
            wait_jobs(http, [r.json()["files"][0]["id"]])
        assert "#token=s3cret-token" in srv.log()  # the dashboard URL it printed


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7"])
def test_binding_beyond_loopback_without_a_token_is_refused(
    tmp_path: Path, env: dict[str, str], host: str
) -> None:
    r = run_thumbgen(
        "serve", "--host", host, "-o", str(tmp_path / "t"), "-w", "0", env=env, cwd=tmp_path
    )
    assert r.returncode == 2
    assert r.stderr.startswith("Error: Refusing to serve on")
    assert r.stderr.count("\n") == 1
    assert "--token" in r.stderr
    env_token = {**env, "THUMBGEN_TOKEN": "  "}
    r = run_thumbgen("serve", "--host", host, "-w", "0", env=env_token, cwd=tmp_path)
    assert r.returncode == 2
    assert "token" in r.stderr
    assert list(tmp_path.iterdir()) == []  # refused before making any folder


def test_a_cut_off_upload_leaves_no_file_and_no_job(tmp_path: Path, env: dict[str, str]) -> None:
    # Noise compresses badly: a few MB, so that half of it is written to disk
    # before the client vanishes (the server buffers the first MiB).
    buf = io.BytesIO()
    Image.effect_noise((2000, 2000), 80).convert("RGB").save(buf, "JPEG", quality=95)
    data = buf.getvalue()
    assert len(data) > 3 * 1024 * 1024
    boundary = "cutcutcut"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    uploads = tmp_path / "thumbs-uploads"
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        for declared in (len(body), None):  # with Content-Length, and chunked
            with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
                head = "POST /thumbnails HTTP/1.1\r\nHost: x\r\n"
                head += f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                half = body[: len(body) // 2]
                if declared is None:
                    head += "Transfer-Encoding: chunked\r\n\r\n"
                    s.sendall(head.encode() + f"{len(half):x}\r\n".encode() + half + b"\r\n")
                else:
                    head += f"Content-Length: {declared}\r\n\r\n"
                    s.sendall(head.encode() + half)
                # Let the server write what it got before the client vanishes.
                assert wait_for(lambda: any(uploads.iterdir()))
            assert wait_for(lambda: not any(uploads.iterdir())), list(uploads.iterdir())
        assert http.get("/status").json()["queued"] == 0
        assert http.get("/jobs").json() == []
        # The server is still fine, and a whole upload of the same bytes works.
        r = http.post("/thumbnails", files={"file": ("a.jpg", data)})
        assert r.status_code == 202
        wait_jobs(http, [r.json()["files"][0]["id"]])
    assert len(list(uploads.iterdir())) == 1


def wait_for(predicate: object, timeout: float = 30.0) -> bool:
    """Poll ``predicate`` (a hang guard, not a timing assertion)."""
    from support.procs import wait_until

    assert callable(predicate)
    return wait_until(predicate, timeout)


def test_an_oversized_upload_is_413_while_memory_stays_flat(
    tmp_path: Path, env: dict[str, str]
) -> None:
    total = 200 * 1024 * 1024
    uploads = tmp_path / "thumbs-uploads"
    with served(tmp_path, env, "-w", "0", "--max-upload-mb", "50") as srv, srv.client() as http:
        before = srv.rss_kib()
        peak = [before]

        def body() -> object:
            head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n'
            yield head + b"\xff\xd8\xff\xe0"
            chunk = os.urandom(1024 * 1024)
            for i in range(total // len(chunk)):
                if i % 10 == 0:
                    peak.append(srv.rss_kib())
                yield chunk
            yield b"\r\n--b--\r\n"

        r = http.post(
            "/thumbnails",
            content=body(),  # type: ignore[arg-type]
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert r.status_code == 413, r.text
        assert "50 MiB" in r.json()["error"]
        peak.append(srv.rss_kib())
        growth_mib = (max(peak) - before) / 1024
        assert growth_mib < 25, f"server RSS grew {growth_mib:.0f} MiB for a 200 MiB upload"
        assert list(uploads.iterdir()) == []
        assert http.get("/jobs").json() == []
        # A body declared far too large is refused before any of it is read.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
            sock.sendall(
                b"POST /thumbnails HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 1000000000000\r\n\r\n--b\r\n"
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


def test_a_stalled_upload_is_408_and_leaves_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    uploads = tmp_path / "thumbs-uploads"
    with served(tmp_path, env, "-w", "0", "--idle-timeout", "3") as srv, srv.client() as http:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
            s.sendall(
                b"POST /thumbnails HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 10000000\r\n\r\n"
                + part
                + b"\xff\xd8\xff\xe0"
                + os.urandom(1536 * 1024)
            )
            # More than the server buffers: a temporary file is on disk now.
            assert wait_for(lambda: any(uploads.iterdir()))
            # Then nothing: the server answers once it has waited long enough.
            reply = _whole_reply(s)
        assert reply.startswith(b"HTTP/1.1 408 "), reply
        assert b"stalled" in reply
        assert list(uploads.iterdir()) == []
        assert http.get("/jobs").json() == []


def _whole_reply(sock: socket.socket) -> bytes:
    """Headers and body of one response (they may arrive in separate packets)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body

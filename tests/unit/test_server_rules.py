"""The server's rules as plain functions: addresses, settings, request options, paths, names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thumbgen.commands.uploading import request_options
from thumbgen.errors import UsageError
from thumbgen.options import Fit, Format, build_options
from thumbgen.server.errors import ApiError
from thumbgen.server.settings import ServerSettings, is_loopback, upload_folder
from thumbgen.server.thumbs import resolve_inside
from thumbgen.server.uploads import _extension, _known_extension


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.2", False),
        ("example.org", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def settings(tmp_path: Path, **kw: object) -> ServerSettings:
    options = build_options(out_dir=tmp_path / "out")
    return ServerSettings(str(tmp_path / "q.db"), options, str(tmp_path / "up"), **kw)  # type: ignore[arg-type]


def test_settings_refuse_an_open_bind_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=re.escape("Refusing to serve on 0.0.0.0 without a token")):
        settings(tmp_path, host="0.0.0.0").check()
    with pytest.raises(UsageError, match="empty"):
        settings(tmp_path, token=" ").check()
    settings(tmp_path, host="0.0.0.0", token="t").check()
    settings(tmp_path).check()


def test_the_uploads_folder_is_beside_the_output_folder(tmp_path: Path) -> None:
    assert upload_folder(None, str(tmp_path / "thumbs")) == str(tmp_path / "thumbs-uploads")
    assert upload_folder(None, str(tmp_path / "thumbs") + "/") == str(tmp_path / "thumbs-uploads")
    assert upload_folder("in", "x") == str(Path("in").resolve())


def test_a_request_changes_only_size_fit_format_and_quality() -> None:
    base = build_options(["256"], crop="entropy", out_dir="/srv/out", name="{stem}_{size}.{ext}")
    got = request_options(base, sizes=["64", "x32"], fit="cover", format="webp", quality="70")
    assert [s.size.label for s in got.specs] == ["64x64", "x32"]
    assert {(s.fit, s.format, s.quality, s.crop) for s in got.specs} == {
        (Fit.COVER, Format.WEBP, 70, "entropy")
    }
    assert (got.out_dir, got.name) == ("/srv/out", "{stem}_{size}.{ext}")
    assert request_options(base) == base


def test_a_server_started_with_animated_makes_uploads_animated_and_takes_gif() -> None:
    base = build_options(["256"], out_dir="/srv/out", animated=True)
    assert request_options(base, sizes=["64"]).animated
    assert request_options(base, format="gif").specs[0].format is Format.GIF
    with pytest.raises(UsageError, match="gif only with --animated"):
        request_options(build_options(out_dir="/srv/out"), format="gif")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quality": "high"}, "Invalid quality 'high': use a number from 1 to 100"),
        ({"quality": "101"}, "Invalid quality 101"),
        ({"fit": "stretch"}, "Invalid fit 'stretch': choose one of contain, cover, pad, fill"),
        ({"sizes": ["big"]}, "Invalid size 'big'"),
    ],
)
def test_bad_request_values_get_the_cli_messages(fields: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        request_options(build_options(), **fields)  # type: ignore[arg-type]


def test_paths_are_resolved_inside_the_folder_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "a.jpg").write_bytes(b"x")
    (tmp_path / "secret").write_text("s")
    (out / "link.jpg").symlink_to(tmp_path / "secret")
    (out / "inner.jpg").symlink_to(out / "sub" / "a.jpg")
    assert resolve_inside(str(out), "sub/a.jpg") == str(out / "sub" / "a.jpg")
    assert resolve_inside(str(out), "inner.jpg") == str(out / "sub" / "a.jpg")
    for bad in ("../secret", "sub/../../secret", "./sub/a.jpg", "sub//a.jpg", "a\\..\\b", ""):
        with pytest.raises(ApiError) as caught:
            resolve_inside(str(out), bad)
        assert caught.value.status == 400, bad
    for missing in ("link.jpg", "sub", "nope.jpg"):
        with pytest.raises(ApiError) as caught:
            resolve_inside(str(out), missing)
        assert caught.value.status == 404, missing


def test_stored_names_keep_only_extensions_of_the_sniffed_format() -> None:
    assert _known_extension("../../etc/passwd") == ""
    assert _known_extension("C:\\photos\\IMG.JPEG") == ".jpeg"
    assert _known_extension("shot.NEF") == ".nef"
    assert _known_extension("x.php") == ""
    assert _extension("JPEG", "/u/.upload-1.jpeg") == ".jpeg"
    assert _extension("PNG", "/u/.upload-1.jpg") == ".png"  # a PNG named .jpg is stored as .png
    assert _extension("JPEG", "/u/.upload-1") == ".jpg"


def test_accepted_connections_send_without_nagle_delay() -> None:
    """The listener says TCP, so asyncio sets TCP_NODELAY on every accepted connection.

    With proto 0 it did not, and each kept-alive response (headers and body
    written apart) waited for the client's delayed ACK: 44 ms per request.
    """
    import asyncio
    import socket

    from thumbgen.server.running import _listen

    async def accepted_nodelay() -> int:
        found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            found.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listener = _listen("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            port = listener.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(found, 30)
            writer.close()
            return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_a_request_keeps_the_servers_placeholder_manifest_and_cache_control(tmp_path: Path) -> None:
    base = build_options(
        ["256"],
        out_dir=tmp_path / "t",
        placeholder="thumbhash",
        manifest=tmp_path / "manifest.json",
        cache_control="public, max-age=60",
        max_pixels=1000,
    )
    got = request_options(base, sizes=["64"], format="webp")
    assert [s.size.label for s in got.specs] == ["64x64"]
    assert got.specs[0].format is Format.WEBP
    assert (got.placeholder, got.manifest, got.cache_control, got.max_pixels) == (
        "thumbhash",
        base.manifest,
        "public, max-age=60",
        1000,
    )

"""SVG drawn for real, in its capped and timed child process.

- drawn at the size the thumbnails need, whatever its nominal size;
- nothing outside the file is read: a local HTTP server on 127.0.0.1 must see
  no request, and a PNG beside the drawing (or anywhere) is never drawn;
- bounded: a drawing that takes too long is killed, one that needs more
  memory than its cap fails with the "Not enough memory" line.
"""

from __future__ import annotations

import base64
import gzip
import http.server
import io
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from support import formatgen, imagegen
from support.browser import chromium
from support.thumbs import UPRIGHT, close, load, mean_difference, one, opts, rgb_at

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.imaging import svg
from thumbgen.thumbnailing import make_thumbnails

resvg_py = pytest.importorskip("resvg_py")

GREEN = (0, 255, 0)


def test_an_svg_is_drawn_upright_at_the_box_size(tmp_path: Path) -> None:
    src = formatgen.svg_quadrants(tmp_path / "q.svg", (12, 8))  # tiny nominal size
    out = load(one(src, opts(tmp_path, ("256",), format="png")).path)
    assert out.size == (256, 171)
    assert imagegen.quadrants(out) == UPRIGHT
    assert close(rgb_at(out.convert("RGB"), 0.25, 0.25), (220, 30, 40), 2)


def test_a_huge_nominal_size_costs_nothing(tmp_path: Path) -> None:
    # resvg would allocate 4e14 bytes for the nominal canvas and abort.
    src = formatgen.svg_quadrants(tmp_path / "q.svg", (1e7, 1e7))
    out = load(one(src, opts(tmp_path, ("64",), format="png")).path)
    assert out.size == (64, 64)
    assert imagegen.quadrants(out) == UPRIGHT


def test_svgz_is_drawn(tmp_path: Path) -> None:
    plain = formatgen.svg_quadrants(tmp_path / "q.svg")
    src = tmp_path / "q.svgz"
    src.write_bytes(gzip.compress(plain.read_bytes()))
    assert imagegen.quadrants(load(one(src, opts(tmp_path, ("60",), format="png")).path)) == UPRIGHT


def test_an_embedded_raster_image_is_drawn(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), GREEN).save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    body = f'<image width="120" height="80" href="data:image/png;base64,{data}"/>'
    src = formatgen.svg_quadrants(tmp_path / "d.svg", body=body)
    out = load(one(src, opts(tmp_path, ("60",), format="png")).path).convert("RGB")
    assert close(rgb_at(out, 0.5, 0.5), GREEN, 2)


#: A drawing to embed: left half black, right half magenta, 60x40.
INNER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="40">'
    '<rect width="30" height="40" fill="#000"/><rect x="30" width="30" height="40" fill="#f0f"/>'
    "</svg>"
)


def _svg_uri(inner: str, encoding: str) -> str:
    if encoding == "base64":
        return "data:image/svg+xml;base64," + base64.b64encode(inner.encode()).decode()
    return "data:image/svg+xml," + urllib.parse.quote(inner)


@pytest.mark.parametrize("encoding", ["base64", "percent"])
def test_an_embedded_svg_is_drawn_as_the_browser_draws_it(tmp_path: Path, encoding: str) -> None:
    uri = _svg_uri(INNER, encoding)
    body = f'<image x="30" y="20" width="60" height="40" href="{uri}"/>'
    src = formatgen.svg_quadrants(tmp_path / "nested.svg", body=body)
    out = load(one(src, opts(tmp_path, ("120x80",), format="png")).path).convert("RGB")
    with chromium() as reference:
        expected = reference.render(src, (120, 80))
    assert expected is not None
    assert close(rgb_at(expected.convert("RGB"), 0.4, 0.5), (0, 0, 0), 2)  # the reference draws it
    assert mean_difference(out, expected) < 3


def test_an_embedded_svg_reads_nothing_outside_the_file_either(tmp_path: Path, server: str) -> None:
    Image.new("RGB", (8, 8), GREEN).save(tmp_path / "green.png")
    inner = INNER.replace(
        "</svg>",
        f'<image width="60" height="20" href="{tmp_path / "green.png"}"/>'
        f'<image y="20" width="60" height="20" href="{server}/inner.png"/></svg>',
    )
    deeper = (  # two levels down: the outer file embeds a drawing that embeds ``inner``
        '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="40">'
        f'<image width="60" height="40" href="{_svg_uri(inner, "base64")}"/></svg>'
    )
    body = f'<image x="30" y="20" width="60" height="40" href="{_svg_uri(deeper, "percent")}"/>'
    src = formatgen.svg_quadrants(tmp_path / "nested.svg", body=body)
    out = load(one(src, opts(tmp_path, ("120x80",), format="png")).path).convert("RGB")
    assert _Recorder.seen == []
    assert close(rgb_at(out, 0.4, 0.3), (0, 0, 0), 2)  # the embedded drawing itself is there
    assert close(rgb_at(out, 0.6, 0.6), (255, 0, 255), 2)
    assert not close(rgb_at(out, 0.4, 0.35), GREEN, 60)  # the file it names is not


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 that records every request it gets."""
    _Recorder.seen = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def test_nothing_outside_the_file_is_fetched(tmp_path: Path, server: str) -> None:
    Image.new("RGB", (8, 8), GREEN).save(tmp_path / "green.png")
    refs = [
        f"{server}/image.png",
        "green.png",  # beside the drawing
        str(tmp_path / "green.png"),  # absolute
        (tmp_path / "green.png").as_uri(),
    ]
    images = "".join(
        f'<image x="0" y="{20 * i}" width="120" height="20" xlink:href="{r}"/>'
        for i, r in enumerate(refs)
    )
    body = (
        f'<style>@import url("{server}/style.css");</style>{images}'
        f'<use href="{server}/other.svg#x"/><use href="{tmp_path / "green.png"}#x"/>'
        f'<filter id="f"><feImage href="{server}/fe.png"/></filter>'
        f'<rect width="5" height="5" filter="url(#f)" fill="url({server}/p.svg#g)"/>'
    )
    src = formatgen.svg_quadrants(tmp_path / "refs.svg", body=body)
    # Guard: resvg on its own *does* draw a PNG it is pointed at (the absolute path).
    raw = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_path=str(src)))))
    assert close(rgb_at(raw.convert("RGB"), 0.5, 50 / 80), GREEN, 2)

    out = load(one(src, opts(tmp_path, ("120",), format="png")).path).convert("RGB")
    assert _Recorder.seen == []
    for i in range(len(refs)):
        assert not close(rgb_at(out, 0.5, (20 * i + 10) / 80), GREEN, 60), i
    assert imagegen.quadrants(out) == UPRIGHT


def test_a_drawing_that_takes_too_long_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(svg, "SECONDS", 1.0)
    blurred = "".join(
        f'<rect x="{i % 50}" y="{i // 50}" width="50" height="50" filter="url(#b)"/>'
        for i in range(400)
    )
    body = f'<filter id="b"><feGaussianBlur stdDeviation="30"/></filter>{blurred}'
    src = formatgen.svg_quadrants(tmp_path / "slow.svg", (100, 100), body=body)
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path, ("1000",)))
    assert str(info.value) == (
        f"Unsupported image: {src} took longer than 1 s to draw (an SVG too complex, or made to be)"
    )


def test_a_drawing_beyond_its_memory_cap_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 64 MiB for Python and resvg, nothing per pixel: a 4000x4000 canvas (64 MB) cannot fit.
    monkeypatch.setattr(svg, "BASE_MEMORY", 64 << 20)
    monkeypatch.setattr(svg, "BYTES_PER_PIXEL", 0)
    src = formatgen.svg_quadrants(tmp_path / "big.svg")
    with pytest.raises(TooManyPixels, match=r"^Not enough memory to draw .*big\.svg"):
        make_thumbnails(str(src), opts(tmp_path, ("4000",), upscale=True))


@pytest.mark.parametrize(
    "text",
    [
        "<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + ']><svg xmlns="http://www.w3.org/2000/svg"><text>&h;</text></svg>',
    ],
    ids=["malformed", "billion-laughs"],
)
def test_a_broken_or_hostile_document_is_corrupt(tmp_path: Path, text: str) -> None:
    src = tmp_path / "bad.svg"
    src.write_text(text)
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value).startswith(f"Corrupt image: {src} is not an SVG resvg can read (")

"""SVG without drawing: sniffing, the sanitiser, the drawing's own size, the size to draw at.

Drawing needs the child process, so those tests are in tests/e2e/test_formats_svg.py.
"""

from __future__ import annotations

import base64
import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import formatgen
from support.thumbs import sniff_file

from thumbgen.imaging import geometry, svg_render
from thumbgen.imaging.sniff import NotImage
from thumbgen.options import build_options

NS = formatgen.SVG_NS


@pytest.mark.parametrize(
    "text",
    [
        f"<svg {NS}/>",
        f'\ufeff<?xml version="1.0"?>\n<!-- made by hand -->\n<svg {NS}></svg>',
        '<?xml version="1.0" standalone="no"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"'
        ' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [ <!ENTITY w "10"> ]>\n'
        f'<svg {NS} width="&w;"/>',
        '<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>',
    ],
    ids=["bare", "bom-prolog-comment", "doctype", "prefixed"],
)
def test_svg_is_told_by_its_root_element(tmp_path: Path, text: str) -> None:
    path = tmp_path / "drawing.txt"  # the name says nothing
    path.write_text(text, encoding="utf-8")
    assert sniff_file(str(path)) == "SVG"


def test_other_xml_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "page.svg"
    path.write_text('<?xml version="1.0"?><html><body/></html>')
    with pytest.raises(NotImage):
        sniff_file(str(path))


def test_svgz_is_told_by_gzip_and_its_extension(tmp_path: Path) -> None:
    body = gzip.compress(f"<svg {NS}/>".encode())
    (tmp_path / "a.svgz").write_bytes(body)
    (tmp_path / "a.gz").write_bytes(body)
    assert sniff_file(str(tmp_path / "a.svgz")) == "SVG"
    with pytest.raises(NotImage):
        sniff_file(str(tmp_path / "a.gz"))


def hrefs(root: ET.Element) -> list[str]:
    return [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")]


def test_the_sanitiser_keeps_fragments_raster_data_and_sanitised_svg_data_only() -> None:
    text = (
        f'<svg {NS}><defs><rect id="r"/></defs>'
        '<use href="#r"/><use xlink:href=" #r"/>'
        '<image href="data:image/png;base64,iVBORw0KGgo="/>'
        '<image href="data:image/svg+xml;base64,PHN2Zy8+"/>'  # kept, once sanitised itself
        '<image href="data:;base64,PHN2Zy8+"/>'  # text/plain: resvg would sniff it
        '<image href="http://127.0.0.1/x.png"/><image xlink:href="file:///etc/passwd"/>'
        '<image href="/etc/hostname"/><image href="green.png"/>'
        '<use href="other.svg#r"/><filter><feImage href="//host/x.png"/></filter></svg>'
    )
    root = svg_render.sanitise(text.encode())
    nested = "data:image/svg+xml;base64," + base64.b64encode(b"<svg />").decode()
    assert hrefs(root) == ["#r", " #r", "data:image/png;base64,iVBORw0KGgo=", nested]


def test_a_nested_svg_is_sanitised_too_and_only_so_deep() -> None:
    outside = f'<svg {NS}><image href="/etc/hostname"/><use href="#r"/></svg>'
    uri = "data:image/svg+xml;base64," + base64.b64encode(outside.encode()).decode()
    root = svg_render.sanitise(f'<svg {NS}><image href="{uri}"/></svg>'.encode())
    (kept,) = hrefs(root)
    inner = svg_render.sanitise(base64.b64decode(kept.split(",", 1)[1]))
    assert hrefs(inner) == ["#r"]
    for _ in range(svg_render.MAX_NESTING + 1):
        uri = (
            "data:image/svg+xml;base64,"
            + base64.b64encode(f'<svg {NS}><image href="{uri}"/></svg>'.encode()).decode()
        )
    deep = svg_render.sanitise(f'<svg {NS}><image href="{uri}"/></svg>'.encode())
    level = deep
    for _ in range(svg_render.MAX_NESTING):
        (href,) = hrefs(level)
        level = svg_render.sanitise(base64.b64decode(href.split(",", 1)[1]))
    assert hrefs(level) == []  # past the limit the embedded drawing is dropped


@pytest.mark.parametrize(
    ("attrs", "size"),
    [
        ('width="120" height="80"', (120, 80)),
        ('width="1in" height="2cm"', (96, 96 / 2.54 * 2)),
        ('width="10pt" height="3em"', (40 / 3, 48)),
        ('viewBox="0 0 30 40"', (30, 40)),
        ('width="60" viewBox="0,0,30,40"', (60, 80)),
        ('width="50%" height="100%" viewBox="0 0 30 40"', (15, 40)),
        ("", (100, 100)),
    ],
)
def test_natural_size_follows_resvgs_rules(attrs: str, size: tuple[float, float]) -> None:
    root = svg_render.sanitise(f"<svg {NS} {attrs}/>".encode())
    width, height = svg_render.natural_size(root)
    assert width == pytest.approx(size[0])
    assert height == pytest.approx(size[1])


@pytest.mark.parametrize("attrs", ['width="0" height="10"', 'width="-5" height="5"'])
def test_a_drawing_without_area_is_refused(attrs: str) -> None:
    with pytest.raises(svg_render.Refused):
        svg_render.natural_size(svg_render.sanitise(f"<svg {NS} {attrs}/>".encode()))


@pytest.mark.parametrize(
    ("natural", "sizes", "fit", "drawn"),
    [
        ((12, 8), ("256",), "contain", (256, 171)),  # small vector art is drawn large
        ((1e9, 1e9), ("256",), "contain", (256, 256)),  # huge nominal sizes cost nothing
        ((120, 80), ("64", "300x"), "contain", (300, 200)),  # the largest output decides
        ((120, 80), ("100x100",), "cover", (150, 100)),
        ((120, 80), ("100x100",), "fill", (150, 100)),
    ],
)
def test_the_drawing_size_serves_the_largest_output(
    natural: tuple[float, float], sizes: tuple[str, ...], fit: str, drawn: tuple[int, int]
) -> None:
    options = build_options(list(sizes), fit=fit, out_dir="/tmp/unused")
    assert geometry.vector_size(natural, options.specs) == drawn

"""Progressive JPEGs from their DC scans: the same pixels, or the normal decode.

Every case of the fallback list has a generated file: restart markers,
arithmetic coding, 12-bit samples, MPO, DNL, a first scan that is not DC, a
truncated file, and a source too small for 1/8 scale.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter
from support.thumbs import decode_file, opts

from thumbgen.errors import ThumbgenError
from thumbgen.imaging import decoders, jpeg_dc


def photo(size: tuple[int, int] = (2400, 1600), mode: str = "RGB") -> Image.Image:
    """Texture and edges, so that AC coefficients matter at full size."""
    return _photo(size, mode).copy()


@functools.cache
def _photo(size: tuple[int, int], mode: str) -> Image.Image:
    noise = Image.effect_noise(size, 80).filter(ImageFilter.GaussianBlur(1))
    bands = [
        Image.linear_gradient("L").resize(size),
        noise,
        Image.radial_gradient("L").resize(size),
    ]
    im = Image.merge("RGB", bands)
    return im.convert(mode) if mode != "RGB" else im


def jpeg(im: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, progressive=True, **params)
    return out.getvalue()


def draft_decode(data: bytes, box: tuple[int, int]) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.draft(None, box)
        im.load()
        return im.copy()


def segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, bytes of the segment and, for SOS, its scan data) of a simple JPEG."""
    out = []
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            out.append((marker, data[pos:]))
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        out.append((marker, data[pos:end]))
        pos = end
    return out


def join(parts: list[tuple[int, bytes]]) -> bytes:
    return b"\xff\xd8" + b"".join(p for _, p in parts)


@pytest.mark.parametrize(
    ("mode", "subsampling"),
    [("RGB", "4:2:0"), ("RGB", "4:4:4"), ("RGB", "4:2:2"), ("L", None), ("CMYK", None)],
)
def test_dc_scans_give_the_very_pixels_of_the_full_draft(
    mode: str, subsampling: str | None
) -> None:
    params = {} if subsampling is None else {"subsampling": subsampling}
    data = jpeg(photo(mode=mode), **params)
    rewritten = jpeg_dc.rewrite(data)
    assert rewritten is not None
    assert len(rewritten) < len(data) * 0.6
    box = (300, 200)
    full, dc = draft_decode(data, box), draft_decode(rewritten, box)
    assert dc.size == full.size == (300, 200)
    assert ImageChops.difference(dc, full).getbbox() is None  # identical


def test_decode_uses_the_dc_scans_when_the_draft_is_an_eighth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "p.jpg"
    src.write_bytes(jpeg(photo()))
    calls: list[int] = []
    real = jpeg_dc.rewrite
    monkeypatch.setattr(jpeg_dc, "rewrite", lambda d: calls.append(len(d)) or real(d))
    decoded = decode_file(str(src), opts(tmp_path, ("128",)))
    assert calls
    assert decoded.image.size == (300, 200)
    expected = draft_decode(src.read_bytes(), (300, 200))
    assert ImageChops.difference(decoded.image, expected).getbbox() is None


def _decoded_normally(tmp_path: Path, data: bytes, size: str = "128") -> Image.Image:
    """Decode ``data`` through thumbgen, checking the DC path gave up on it."""
    src = tmp_path / "f.jpg"
    src.write_bytes(data)
    with Image.open(src) as im:
        assert decoders._from_dc_scans(im, (256, 256)) is None
    return decode_file(str(src), opts(tmp_path, (size,))).image


def test_restart_markers_fall_back(tmp_path: Path) -> None:
    data = jpeg(photo(), restart_marker_blocks=4)
    assert jpeg_dc.rewrite(data) is None
    assert _decoded_normally(tmp_path, data).size == (300, 200)


def test_restart_markers_without_dri_fall_back() -> None:
    data = jpeg(photo(), restart_marker_blocks=4)
    parts = [(m, p) for m, p in segments(data) if m != 0xDD]
    assert jpeg_dc.rewrite(join(parts)) is None


def test_baseline_jpegs_are_not_rewritten(tmp_path: Path) -> None:
    out = io.BytesIO()
    photo().save(out, "JPEG", quality=90)
    assert jpeg_dc.rewrite(out.getvalue()) is None
    assert _decoded_normally(tmp_path, out.getvalue()).size == (300, 200)


@pytest.mark.parametrize("sof", [0xCA, 0xC6, 0xCE], ids=["arithmetic", "lossless", "hier-arith"])
def test_other_frame_types_fall_back(sof: int) -> None:
    data = bytearray(jpeg(photo((800, 800))))
    data[data.index(b"\xff\xc2") + 1] = sof
    assert jpeg_dc.rewrite(bytes(data)) is None


def test_arithmetic_conditioning_table_falls_back() -> None:
    parts = segments(jpeg(photo((800, 800))))
    dac = (0xCC, b"\xff\xcc\x00\x04\x00\x11")
    assert jpeg_dc.rewrite(join([parts[0], dac, *parts[1:]])) is None


def test_twelve_bit_falls_back() -> None:
    data = bytearray(jpeg(photo((800, 800))))
    data[data.index(b"\xff\xc2") + 4] = 12
    assert jpeg_dc.rewrite(bytes(data)) is None


def test_dnl_height_falls_back() -> None:
    data = bytearray(jpeg(photo((800, 800))))
    at = data.index(b"\xff\xc2") + 5
    data[at : at + 2] = b"\x00\x00"  # height 0: announced later by a DNL marker
    assert jpeg_dc.rewrite(bytes(data)) is None
    parts = segments(jpeg(photo((800, 800))))
    dnl = (0xDC, b"\xff\xdc\x00\x04\x03\x20")
    assert jpeg_dc.rewrite(join([*parts[:-1], dnl, parts[-1]])) is None


def test_mpo_falls_back(tmp_path: Path) -> None:
    first, second = photo(), photo().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    src = tmp_path / "m.mpo"
    first.save(src, "MPO", save_all=True, append_images=[second], progressive=True)
    data = src.read_bytes()
    assert b"MPF\x00" in data
    assert jpeg_dc.rewrite(data) is None
    with Image.open(src) as im:
        assert im.format == "MPO"
        assert decoders._from_dc_scans(im, (256, 256)) is None
    assert decode_file(str(src), opts(tmp_path, ("128",))).image.size == (300, 200)


def test_first_scan_not_dc_falls_back() -> None:
    parts = segments(jpeg(photo((800, 800))))
    scans = [i for i, (m, _) in enumerate(parts) if m == 0xDA]
    first_dc, first_ac = scans[0], scans[1]
    swapped = list(parts)
    swapped[first_dc], swapped[first_ac] = parts[first_ac], parts[first_dc]
    assert jpeg_dc.rewrite(join(swapped)) is None


def test_missing_dc_scan_for_a_component_falls_back() -> None:
    parts = segments(jpeg(photo((800, 800)), subsampling="4:4:4"))
    # Keep only the scans that do not start a DC band: no component has its DC.
    kept = [(m, p) for m, p in parts if not (m == 0xDA and _is_dc_first(p))]
    assert jpeg_dc.rewrite(join(kept)) is None


def _is_dc_first(scan: bytes) -> bool:
    count = scan[4]
    ss, ahal = scan[5 + 2 * count], scan[7 + 2 * count]
    return ss == 0 and ahal >> 4 == 0


@pytest.mark.parametrize("keep", [0.95, 0.5, 0.1, 0.02])
def test_truncated_files_fall_back(tmp_path: Path, keep: float) -> None:
    data = jpeg(photo())
    cut = data[: int(len(data) * keep)]
    assert jpeg_dc.rewrite(cut) is None
    src = tmp_path / "t.jpg"
    src.write_bytes(cut)
    with pytest.raises(ThumbgenError):  # the same error as without the DC path
        decode_file(str(src), opts(tmp_path, ("128",)))


@pytest.mark.parametrize("size", [(1200, 800), (2000, 300)])
def test_sources_under_eight_times_the_box_decode_normally(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    data = jpeg(photo(size))
    assert jpeg_dc.rewrite(data) is not None  # the rewrite would work...
    image = _decoded_normally(tmp_path, data, "256")  # ...but the AC scans matter here
    box = decoders.decode_box(opts(tmp_path, ("256",)).specs, size, swap=False)
    expected = draft_decode(data, box)
    assert ImageChops.difference(image, expected).getbbox() is None


def test_zero_scan_runs_cover_any_block_count() -> None:
    # End-of-band runs are at most 32767 blocks: many runs, and a single block.
    for blocks in (1, 2, 3, 32767, 32768, 100_000):
        frame = jpeg_dc.Frame(8 * blocks, 8, {1: True})
        assert frame.blocks(1) == blocks
        data = jpeg_dc._eob_runs(blocks)
        assert b"\xff" not in data.replace(b"\xff\x00", b"")


def test_exif_orientation_and_profile_survive(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "o.jpg"
    photo().save(src, "JPEG", quality=90, progressive=True, exif=exif, icc_profile=b"")
    decoded = decode_file(str(src), opts(tmp_path, ("64",)))
    assert decoded.source_size == (1600, 2400)
    assert decoded.image.size == (200, 300)

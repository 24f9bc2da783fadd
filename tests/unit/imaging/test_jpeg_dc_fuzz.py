"""Fuzzing the DC-scan rewrite: it reads untrusted bytes.

Mutated progressive JPEGs (bytes flipped, segments cut, repeated or
dropped, lengths changed, markers inserted, files truncated) must each end in
a thumbnail or a :class:`~thumbgen.errors.ThumbgenError`, never another
exception, a hang or a rewrite longer than the input plus its small
zero-scan tail; and a rewrite of a file that decodes decodes too. The budget
is bounded so the normal suite stays quick; ``nox -s fuzz`` raises it
(``THUMBGEN_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter
from support.fuzzing import examples
from support.thumbs import opts

from thumbgen.errors import ThumbgenError
from thumbgen.imaging import jpeg_dc
from thumbgen.thumbnailing import make_thumbnails

# The zero scans appended per component: a DHT, an SOS and a few bytes of runs.
_TAIL = 200


@functools.cache
def seeds() -> tuple[bytes, ...]:
    """Small progressive JPEGs of every kind the rewrite handles (256 px: 8x a 32 px box)."""
    noise = Image.effect_noise((256, 192), 70).filter(ImageFilter.GaussianBlur(1))
    rgb = Image.merge("RGB", (noise, Image.linear_gradient("L").resize((256, 192)), noise))
    out = []
    for im, params in [
        (rgb, {"subsampling": "4:2:0"}),
        (rgb, {"subsampling": "4:4:4"}),
        (rgb.convert("L"), {}),
        (rgb.convert("CMYK"), {}),
    ]:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=80, progressive=True, **params)
        out.append(buf.getvalue())
    return tuple(out)


#: Byte strings that mean something to the rewrite: markers, DRI, DAC, DNL, RST,
#: fill bytes, a stuffed zero, MPF, an empty DHT, a one-component AC scan header.
_MARKERS = [
    b"\xff\xd8",
    b"\xff\xd9",
    b"\xff\xda",
    b"\xff\xc2",
    b"\xff\xdd\x00\x04\x00\x01",
    b"\xff\xcc",
    b"\xff\xdc\x00\x04\x00\x10",
    b"\xff\xd0",
    b"\xff\xff\xff",
    b"\xff\x00",
    b"\xff\xe2\x00\x06MPF\x00",
    b"\xff\xc4\x00\x02",
    b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "drop", "repeat", "length"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(_MARKERS))
        elif kind == "drop":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 512))]
        else:  # a segment length field: find the next marker after ``at``
            marker = data.find(b"\xff", at)
            if 0 <= marker < len(data) - 3:
                data[marker + 2 : marker + 4] = draw(st.binary(min_size=2, max_size=2))
        if not data:
            data = bytearray(b"\xff")
    return bytes(data)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_rewrite_returns_bytes_or_none(data: bytes) -> None:
    result = jpeg_dc.rewrite(data)
    if result is not None:
        assert result.startswith(b"\xff\xd8")
        assert result.endswith(b"\xff\xd9")
        assert len(result) <= len(data) + 4 * _TAIL


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_every_mutated_file_ends_in_a_thumbnail_or_a_thumbgen_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "f.jpg"
        src.write_bytes(data)
        try:
            made = make_thumbnails(str(src), opts(Path(tmp), ("32",)))
        except ThumbgenError:
            return
        assert len(made) == 1
        assert max(made[0].width, made[0].height) <= 32


def _decodes_at_one_eighth(data: bytes) -> tuple[int, int, str] | None:
    """The 1/8 decode's size and mode, or None when Pillow cannot decode ``data``."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            im.draft(None, (im.width // 8, im.height // 8))
            im.load()
            return (im.width, im.height, im.mode)
    except Exception:
        return None


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_rewrite_of_a_file_that_decodes_decodes_the_same_size(data: bytes) -> None:
    # The decoder falls back on a rewrite Pillow refuses, so this is about not
    # wasting the work: a usable file is rewritten into a usable file.
    original = _decodes_at_one_eighth(data)
    result = jpeg_dc.rewrite(data)
    if original is not None and result is not None:
        assert _decodes_at_one_eighth(result) == original


def test_every_seed_is_rewritten() -> None:
    for data in seeds():
        assert jpeg_dc.rewrite(data) is not None

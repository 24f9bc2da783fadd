"""Build small ICC profiles from scratch so no binary fixtures need committing.

Everything is written by hand with :mod:`struct` following ICC.1:2010 (v4.3).
The profiles are minimal but complete enough for LittleCMS (``PIL.ImageCms``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import struct
from collections.abc import Callable, Sequence
from typing import Literal

from PIL import Image, ImageCms

Matrix = tuple[tuple[float, ...], ...]
Vec3 = tuple[float, float, float]

# PCS illuminant of every ICC profile (D50, as stored in the header).
D50: Vec3 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
_BRADFORD: Matrix = (
    (0.8951, 0.2664, -0.1614),
    (-0.7502, 1.7135, 0.0367),
    (0.0389, -0.0685, 1.0296),
)
# sRGB transfer as ICC parametric curve type 3: Y=(aX+b)^g if X>=d else cX.
_SRGB_PARA = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


# --- tiny 3x3 linear algebra (no numpy in the test environment) ----------------


def _mul(a: Matrix, b: Matrix) -> Matrix:
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )


def _apply(m: Matrix, v: Sequence[float]) -> Vec3:
    x, y, z = (sum(m[i][k] * v[k] for k in range(3)) for i in range(3))
    return x, y, z


def _inv(m: Matrix) -> Matrix:
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    adj = (
        (e * i - f * h, c * h - b * i, b * f - c * e),
        (f * g - d * i, a * i - c * g, c * d - a * f),
        (d * h - e * g, b * g - a * h, a * e - b * d),
    )
    return tuple(tuple(x / det for x in row) for row in adj)


def _xy_to_xyz(xy: tuple[float, float]) -> Vec3:
    x, y = xy
    return x / y, 1.0, (1 - x - y) / y


def bradford(src_white: Vec3, dst_white: Vec3 = D50) -> Matrix:
    """Bradford chromatic adaptation matrix from ``src_white`` to ``dst_white``."""
    s, d = _apply(_BRADFORD, src_white), _apply(_BRADFORD, dst_white)
    scale = tuple(tuple(d[i] / s[i] if i == j else 0.0 for j in range(3)) for i in range(3))
    return _mul(_inv(_BRADFORD), _mul(scale, _BRADFORD))


def rgb_to_xyz_matrix(
    red_xy: tuple[float, float],
    green_xy: tuple[float, float],
    blue_xy: tuple[float, float],
    white_xy: tuple[float, float],
) -> Matrix:
    """Linear RGB -> XYZ matrix (columns are the primaries, white maps to Y=1)."""
    cols = [_xy_to_xyz(p) for p in (red_xy, green_xy, blue_xy)]
    prim: Matrix = tuple(tuple(cols[j][i] for j in range(3)) for i in range(3))
    s = _apply(_inv(prim), _xy_to_xyz(white_xy))
    return tuple(tuple(prim[i][j] * s[j] for j in range(3)) for i in range(3))


# --- ICC binary encoding --------------------------------------------------------


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(v: Sequence[float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(c) for c in v)


def _mluc(text: str) -> bytes:
    # v4 text tags are multi-localized Unicode: one en-US record, UTF-16BE.
    data = text.encode("utf-16-be")
    return b"mluc\0\0\0\0" + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(data), 28) + data


def _curve(gamma: float | Literal["srgb"]) -> bytes:
    if gamma == "srgb":
        return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(_s15(p) for p in _SRGB_PARA)
    # curv with one entry = pure gamma, stored as u8Fixed8Number.
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))


def _assemble(
    device_class: bytes, colour_space: bytes, pcs: bytes, tags: dict[str, bytes]
) -> bytes:
    """Lay out header + tag table + 4-byte aligned tag data; identical data is shared."""
    table: list[bytes] = []
    body = b""
    seen: dict[bytes, int] = {}
    data_start = 128 + 4 + 12 * len(tags)
    for sig, data in tags.items():
        if data not in seen:
            body += b"\0" * (-len(body) % 4)
            seen[data] = data_start + len(body)
            body += data
        table.append(struct.pack(">4sII", sig.encode("ascii"), seen[data], len(data)))
    body += b"\0" * (-len(body) % 4)
    size = data_start + len(body)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x04300000, device_class, colour_space, pcs)
    header += struct.pack(">6H", 2024, 1, 1, 0, 0, 0)  # fixed date: byte-identical output
    # signature, platform, flags, maker, model, attributes, intent (perceptual), illuminant
    header += struct.pack(">4s4sI4s4sQI", b"acsp", b"APPL", 0, b"none", b"none", 0, 0)
    header += b"".join(_s15(c) for c in D50) + b"tgen" + b"\0" * 44  # creator, ID, reserved
    assert len(header) == 128
    profile = header + struct.pack(">I", len(tags)) + b"".join(table) + body
    # v4 profile ID: MD5 with flags, intent and the ID field itself zeroed.
    scratch = bytearray(profile)
    scratch[44:48] = scratch[64:68] = b"\0" * 4
    digest = hashlib.md5(scratch, usedforsecurity=False).digest()
    return profile[:84] + digest + profile[100:]


def rgb_matrix_profile(
    name: str,
    red_xy: tuple[float, float],
    green_xy: tuple[float, float],
    blue_xy: tuple[float, float],
    white_xy: tuple[float, float],
    gamma: float | Literal["srgb"],
) -> bytes:
    """ICC v4 display ('mntr') RGB matrix/TRC profile.

    ``gamma`` is a plain exponent (``curv``) or ``"srgb"`` for the exact sRGB
    piecewise curve (``para`` type 3).
    """
    adapt = bradford(_xy_to_xyz(white_xy))
    m = _mul(adapt, rgb_to_xyz_matrix(red_xy, green_xy, blue_xy, white_xy))
    trc = _curve(gamma)
    tags = {
        "desc": _mluc(name),
        "cprt": _mluc("No copyright, generated for tests"),
        # v4: media white of a display profile is D50; the adaptation goes in chad.
        "wtpt": _xyz_tag(D50),
        "chad": b"sf32\0\0\0\0" + b"".join(_s15(v) for row in adapt for v in row),
        "rXYZ": _xyz_tag([m[i][0] for i in range(3)]),
        "gXYZ": _xyz_tag([m[i][1] for i in range(3)]),
        "bXYZ": _xyz_tag([m[i][2] for i in range(3)]),
        "rTRC": trc,
        "gTRC": trc,
        "bTRC": trc,
    }
    return _assemble(b"mntr", b"RGB ", b"XYZ ", tags)


def display_p3() -> bytes:
    """Display P3: DCI-P3 primaries, D65 white, exact sRGB transfer curve."""
    return rgb_matrix_profile(
        "Display P3 (thumbgen test)", (0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65_XY, "srgb"
    )


def adobe_rgb() -> bytes:
    """Adobe RGB (1998): its primaries, D65 white, gamma 563/256."""
    return rgb_matrix_profile(
        "Adobe RGB 1998 (thumbgen test)",
        (0.64, 0.33),
        (0.21, 0.71),
        (0.15, 0.06),
        D65_XY,
        563 / 256,
    )


def grey_profile(gamma: float | Literal["srgb"] = 2.2) -> bytes:
    """ICC v4 display ('mntr') grey profile: one tone curve (kTRC), like "Gray Gamma 2.2"."""
    tags = {
        "desc": _mluc(f"Gray Gamma {gamma} (thumbgen test)"),
        "cprt": _mluc("No copyright, generated for tests"),
        "wtpt": _xyz_tag(D50),
        "kTRC": _curve(gamma),
    }
    return _assemble(b"mntr", b"GRAY", b"XYZ ", tags)


# --- CMYK output profile (lut based) -----------------------------------------------


@functools.cache
def _srgb_to_d50() -> Matrix:
    """Linear sRGB -> XYZ (D50-adapted, as in the PCS)."""
    srgb = rgb_to_xyz_matrix((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), D65_XY)
    return _mul(bradford(_xy_to_xyz(D65_XY)), srgb)


def _srgb_to_lab(rgb: Sequence[float]) -> Vec3:
    """sRGB (0..1 encoded) -> CIELAB relative to D50."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = _apply(_srgb_to_d50(), lin)

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(xyz[i] / D50[i]) for i in range(3))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _lab16(lab: Vec3) -> list[int]:
    # lut16 always uses the legacy (v2) 16-bit Lab encoding: L*100 -> 0xFF00,
    # a/b -128..127.996 -> 0..0xFFFF.
    def clamp(v: float) -> int:
        return max(0, min(0xFFFF, round(v)))

    return [clamp(lab[0] * 0xFF00 / 100), clamp((lab[1] + 128) * 256), clamp((lab[2] + 128) * 256)]


def _mft2(n_in: int, n_out: int, grid: int, fn: Callable[[tuple[float, ...]], list[int]]) -> bytes:
    """lut16 tag with identity curves and a CLUT sampled from ``fn`` (inputs 0..1)."""
    identity = (1, 0, 0, 0, 1, 0, 0, 0, 1)  # matrix only matters for XYZ input
    head = b"mft2\0\0\0\0" + struct.pack(">BBBx", n_in, n_out, grid)
    head += b"".join(_s15(v) for v in identity) + struct.pack(">HH", 2, 2)
    ramp = struct.pack(">HH", 0, 0xFFFF)
    steps = [i / (grid - 1) for i in range(grid)]
    # itertools.product varies the last input fastest, exactly the ICC CLUT order.
    clut = [v for point in itertools.product(steps, repeat=n_in) for v in fn(point)]
    return head + ramp * n_in + struct.pack(f">{len(clut)}H", *clut) + ramp * n_out


def naive_cmyk_to_srgb(c: float, m: float, y: float, k: float) -> Vec3:
    """The toy ink model behind :func:`cmyk_profile` (all values 0..1)."""
    return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)


def _lab_to_naive_cmyk(lab: tuple[float, ...]) -> list[int]:
    # Inverse of the toy model via sRGB, for the B2A0 table (inputs are lut16 Lab 0..1).
    big_l, a, b = (
        lab[0] * 0xFFFF / 0xFF00 * 100,
        lab[1] * 0xFFFF / 256 - 128,
        lab[2] * 0xFFFF / 256 - 128,
    )
    fy = (big_l + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def finv(t: float) -> float:
        return t**3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)

    xyz = [finv(t) * w for t, w in zip((fx, fy, fz), D50, strict=True)]
    lin = [min(1.0, max(0.0, v)) for v in _apply(_inv(_srgb_to_d50()), xyz)]
    rgb = [12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055 for v in lin]
    k = 1 - max(rgb)
    cmy = [0.0 if k >= 1 else (1 - v - k) / (1 - k) for v in rgb]
    return [round(v * 0xFFFF) for v in (*cmy, k)]


def cmyk_profile(grid: int = 5) -> bytes:
    """ICC v4 output ('prtr') CMYK profile with Lab PCS built from a naive ink model.

    A2B0 (CMYK->Lab) is exact at the grid points; B2A0 (Lab->CMYK, 9-point grid)
    is a rough inverse included so the profile also works as a conversion target.
    """
    a2b = _mft2(4, 3, grid, lambda p: _lab16(_srgb_to_lab(naive_cmyk_to_srgb(*p))))
    tags = {
        "desc": _mluc("Naive CMYK (thumbgen test)"),
        "cprt": _mluc("No copyright, generated for tests"),
        "wtpt": _xyz_tag(D50),
        "A2B0": a2b,
        "B2A0": _mft2(3, 4, 9, _lab_to_naive_cmyk),
    }
    return _assemble(b"prtr", b"CMYK", b"Lab ", tags)


# --- conversions via LittleCMS, for tests ----------------------------------------------


def load(icc: bytes) -> ImageCms.ImageCmsProfile:
    """Parse profile bytes with LittleCMS (raises ``PyCMSError`` if it rejects them)."""
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


def to_srgb(colour: tuple[int, ...], icc: bytes, mode: str = "RGB") -> tuple[int, int, int]:
    """Convert one ``mode`` pixel encoded in profile ``icc`` to sRGB."""
    src = Image.new(mode, (1, 1), colour)
    out = ImageCms.profileToProfile(
        src, load(icc), ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    assert out is not None
    r, g, b = out.getpixel((0, 0))  # type: ignore[misc]
    return r, g, b


def from_srgb(rgb: tuple[int, int, int], icc: bytes, mode: str = "RGB") -> tuple[int, ...]:
    """Encode an sRGB colour in profile ``icc`` (e.g. P3 values showing the same colour)."""
    src = Image.new("RGB", (1, 1), rgb)
    out = ImageCms.profileToProfile(src, ImageCms.createProfile("sRGB"), load(icc), outputMode=mode)
    assert out is not None
    px = out.getpixel((0, 0))
    assert isinstance(px, tuple)
    return tuple(int(v) for v in px)

"""A decoded video frame to 8-bit sRGB at a given size; HDR (PQ, HLG) tone-mapped to SDR.

SDR frames (8 or 10-bit) are scaled and converted by FFmpeg's swscale in one
step, with the frame's own matrix and range, as ``ffmpeg`` itself does. An
HDR frame shown that way looks washed out: its values are PQ or HLG
signal levels in BT.2020, not gamma-coded BT.709. So it is converted to
16-bit RGB, linearised (PQ: absolute light, HLG: scene light through the
reference OOTF of a 1000 cd/m2 display), scaled so that BT.2408's reference
white (203 cd/m2) is SDR white, highlights above a knee rolled off
smoothly (on luminance, so hues stay), mapped from BT.2020 to BT.709 primaries
and sRGB-coded. This runs on the scaled frame: a few hundred thousand pixels.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

#: AVColorTransferCharacteristic values of the HDR transfers.
PQ, HLG = 16, 18
#: AVColorSpace value of BT.2020 (non-constant luminance).
_BT2020_NCL = 9
#: cd/m2 of SDR white in an HDR signal (ITU-R BT.2408).
REFERENCE_WHITE = 203.0
#: Nominal peak of an HLG display (BT.2100's reference OOTF).
HLG_PEAK = 1000.0
#: Relative light up to which SDR keeps HDR's values; above it highlights roll off.
KNEE = 0.75
_BT2020_TO_BT709 = (
    (1.6605, -0.5876, -0.0728),
    (-0.1246, 1.1329, -0.0083),
    (-0.0182, -0.1006, 1.1187),
)
_LUMA_2020 = (0.2627, 0.6780, 0.0593)


def is_hdr(frame: Any) -> bool:
    """True when the frame is coded with an HDR transfer (PQ or HLG)."""
    return int(frame.color_trc or 0) in (PQ, HLG)


def to_sdr(frame: Any, size: tuple[int, int]) -> Image.Image:
    """``frame`` as an 8-bit sRGB Pillow image of ``size`` (swscale's area scaling)."""
    if not is_hdr(frame):
        rgb = frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="AREA")
        return rgb.to_image()  # type: ignore[no-any-return]
    colourspace = "BT2020" if int(frame.colorspace or 0) in (0, 2, _BT2020_NCL) else None
    wide = frame.reformat(
        width=size[0],
        height=size[1],
        format="rgb48le",
        interpolation="AREA",
        src_colorspace=colourspace,
    )
    return _tone_map(wide.to_ndarray(), int(frame.color_trc))


def _tone_map(rgb16: Any, transfer: int) -> Image.Image:
    import numpy as np

    signal = rgb16.astype(np.float32) / 65535.0
    if transfer == PQ:
        nits = _pq_to_nits(signal)
    else:
        scene = _hlg_inverse_oetf(signal)
        luma = np.tensordot(scene, np.asarray(_LUMA_2020, np.float32), axes=([2], [0]))
        nits = HLG_PEAK * scene * np.power(np.maximum(luma, 1e-6), 0.2)[..., None]
    light = nits / REFERENCE_WHITE
    luma = np.tensordot(light, np.asarray(_LUMA_2020, np.float32), axes=([2], [0]))
    mapped = _roll_off(luma)
    light = light * (mapped / np.maximum(luma, 1e-6))[..., None]
    light = np.tensordot(light, np.asarray(_BT2020_TO_BT709, np.float32), axes=([2], [1]))
    light = np.clip(light, 0.0, 1.0)
    coded = np.where(light <= 0.0031308, light * 12.92, 1.055 * np.power(light, 1 / 2.4) - 0.055)
    return Image.fromarray(np.round(coded * 255.0).astype(np.uint8), "RGB")


def _pq_to_nits(signal: Any) -> Any:
    """SMPTE ST 2084's EOTF: signal 0..1 to cd/m2."""
    import numpy as np

    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.power(signal, 1 / m2)
    return 10000.0 * np.power(np.maximum(p - c1, 0.0) / (c2 - c3 * p), 1 / m1)


def _hlg_inverse_oetf(signal: Any) -> Any:
    """ARIB STD-B67's inverse OETF: signal 0..1 to scene light 0..1."""
    import numpy as np

    a = 0.17883277
    b, c = 1 - 4 * a, 0.5 - a * np.log(4 * a)
    low = signal * signal / 3.0
    high = (np.exp((np.maximum(signal, 0.5) - c) / a) + b) / 12.0
    return np.where(signal <= 0.5, low, high)


def _roll_off(luma: Any) -> Any:
    """Relative light to 0..1: unchanged up to :data:`KNEE`, then compressed towards 1."""
    import numpy as np

    over = np.maximum(luma - KNEE, 0.0)
    span = 1.0 - KNEE
    return np.where(luma <= KNEE, luma, KNEE + span * (1.0 - np.exp(-over / span)))

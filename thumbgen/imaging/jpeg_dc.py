"""Progressive JPEGs decoded from the scans a 1/8-scale decode needs.

At 1/8 scale libjpeg turns each 8x8 block of a fully sampled component
(the luma of every common file) into one pixel: its DC coefficient. Its AC
scans, which hold most of the file, are Huffman-decoded for nothing. So when
the decode would be drafted to 1/8 anyway, :func:`rewrite` copies the
file's segments but leaves out the AC scans of fully sampled components, and
the result decodes to the same pixels in a fraction of the time.

Subsampled components (the chroma of 4:2:0 files) keep their AC scans:
libjpeg scales them up through a larger IDCT instead of upsampling, and that
IDCT reads their low AC coefficients; they are small scans anyway.

The bytes are untrusted: every length is checked against the data, every
loop advances and is bounded, and anything unusual (restart markers,
arithmetic coding, 12-bit samples, MPO, DNL, a first scan that is not DC, a
truncated file, a scan for an undeclared component) gives ``None``, which
means "decode this file the normal way".
"""

from __future__ import annotations

import dataclasses
import re

#: Files larger than this are decoded the normal way (the rewrite holds a copy).
MAX_BYTES = 256 * 1024 * 1024
#: More scans than any encoder writes (libjpeg's scripts have 10): a crafted file.
_MAX_SCANS = 64
_MAX_SEGMENTS = 100_000

_SOI, _EOI, _SOS, _DHT, _DAC, _DRI, _DNL, _APP2 = 0xD8, 0xD9, 0xDA, 0xC4, 0xCC, 0xDD, 0xDC, 0xE2
_PROGRESSIVE_HUFFMAN = 0xC2
#: Every other start-of-frame marker: baseline, extended, lossless, hierarchical, arithmetic.
_OTHER_SOF = frozenset({0xC0, 0xC1, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
#: Markers that end the rewrite: a second SOI, arithmetic coding, DNL, any other frame type.
_REFUSED = frozenset({_SOI, _DAC, _DNL}) | _OTHER_SOF
#: The end of a scan's entropy-coded data: 0xFF followed by neither a stuffed 0x00
#: nor a fill 0xFF (restart markers are caught after the search).
_SCAN_END = re.compile(rb"\xff(?=[^\x00\xff])")


@dataclasses.dataclass(frozen=True)
class Frame:
    """What the start-of-frame segment says."""

    width: int
    height: int
    #: Component id -> True when it is fully sampled (its AC scans can go).
    full: dict[int, bool]

    def blocks(self, component: int) -> int:
        """8x8 blocks in a scan of this fully sampled component alone."""
        del component  # fully sampled: the frame's own size
        return -(-self.width // 8) * -(-self.height // 8)


def rewrite(data: bytes) -> bytes | None:
    """``data`` without the AC scans a 1/8 decode never reads, or None to decode normally."""
    if len(data) > MAX_BYTES or not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8"]
    pos = 2
    frame: Frame | None = None
    dc_done: set[int] = set()
    scans = 0
    for _ in range(_MAX_SEGMENTS):
        marker, pos = _next_marker(data, pos)
        if marker is None or marker in _REFUSED or 0xD0 <= marker <= 0xD7:
            return None
        if marker == _EOI:
            return _finish(out, frame, dc_done)
        end = _segment_end(data, pos)
        if end is None:
            return None
        body = data[pos + 2 : end]
        if marker != _SOS:
            if marker == _PROGRESSIVE_HUFFMAN:
                if frame is not None:
                    return None
                frame = _frame(body)
            if not _segment_ok(marker, body) or (marker == _PROGRESSIVE_HUFFMAN and frame is None):
                return None
            out.append(data[pos - 2 : end])
            pos = end
            continue
        scans += 1
        keep = None if frame is None or scans > _MAX_SCANS else _keep_scan(body, frame, dc_done)
        scan_end = None if keep is None else _scan_end(data, end)
        if scan_end is None:
            return None
        if keep:
            out.append(data[pos - 2 : scan_end])
        pos = scan_end
    return None


def _finish(out: list[bytes], frame: Frame | None, dc_done: set[int]) -> bytes | None:
    """The rewritten file, once every component had its DC scan; else None."""
    if frame is None or dc_done != set(frame.full):
        return None
    out.extend(_zero_scans(frame))
    out.append(b"\xff\xd9")
    return b"".join(out)


def _segment_end(data: bytes, pos: int) -> int | None:
    """The end of the segment whose length field is at ``pos``; None past the data."""
    if pos + 2 > len(data):
        return None
    length = int.from_bytes(data[pos : pos + 2], "big")
    end = pos + length
    return end if length >= 2 and end <= len(data) else None


def _segment_ok(marker: int, body: bytes) -> bool:
    """False for the segments that make the file one to decode normally."""
    if marker == _DRI:
        return body == b"\x00\x00"  # an interval other than 0: restart markers in scans
    # MPO: several pictures in one file, which Pillow reads apart.
    return not (marker == _APP2 and body.startswith(b"MPF\x00"))


def frame_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) of a progressive Huffman JPEG's frame, else None."""
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        marker, pos = _next_marker(data, pos)
        if marker is None or marker in (_SOS, _EOI) or pos + 2 > len(data):
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            return None
        if marker == _PROGRESSIVE_HUFFMAN:
            frame = _frame(data[pos + 2 : pos + length])
            return None if frame is None else (frame.width, frame.height)
        pos += length
    return None


def _next_marker(data: bytes, pos: int) -> tuple[int | None, int]:
    """The marker at ``pos`` (after any fill bytes) and the position after it."""
    if pos >= len(data) or data[pos] != 0xFF:
        return None, pos
    # Fill bytes: any run of 0xFF may precede a marker (bounded by the data).
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data) or data[pos] == 0x00:
        return None, pos
    return data[pos], pos + 1


def _frame(body: bytes) -> Frame | None:
    """Parse an SOF2 body; None for what the rewrite does not handle."""
    if len(body) < 6:
        return None
    precision, height, width, count = (
        body[0],
        int.from_bytes(body[1:3], "big"),
        int.from_bytes(body[3:5], "big"),
        body[5],
    )
    # 12-bit samples; height 0 announces a DNL marker; Pillow reads 1, 3 or 4 components.
    if precision != 8 or height == 0 or width == 0 or count not in (1, 3, 4):
        return None
    if len(body) != 6 + 3 * count:
        return None
    sampling = {}
    for i in range(count):
        cid, factors = body[6 + 3 * i], body[7 + 3 * i]
        h, v = factors >> 4, factors & 0x0F
        if cid in sampling or not (1 <= h <= 4 and 1 <= v <= 4):
            return None
        sampling[cid] = (h, v)
    h_max = max(h for h, _ in sampling.values())
    v_max = max(v for _, v in sampling.values())
    return Frame(width, height, {c: hv == (h_max, v_max) for c, hv in sampling.items()})


def _keep_scan(body: bytes, frame: Frame, dc_done: set[int]) -> bool | None:
    """Whether to keep a scan (its SOS header ``body``); None when the file is unusual."""
    if len(body) < 4:
        return None
    count = body[0]
    if count < 1 or count > 4 or len(body) != 4 + 2 * count:
        return None
    components = [body[1 + 2 * i] for i in range(count)]
    ss, se, ah = body[1 + 2 * count], body[2 + 2 * count], body[3 + 2 * count] >> 4
    if any(c not in frame.full for c in components) or len(set(components)) != count:
        return None
    if ss == 0:
        if se != 0:
            return None
        if ah == 0:
            dc_done.update(components)
        elif not dc_done.issuperset(components):
            return None
        return True
    # An AC scan: one component, after that component's DC, as the standard demands.
    if count != 1 or se < ss or se > 63 or components[0] not in dc_done:
        return None
    return not frame.full[components[0]]


def _scan_end(data: bytes, start: int) -> int | None:
    """Where a scan's entropy-coded data starting at ``start`` ends (at its next marker)."""
    found = _SCAN_END.search(data, start)
    if found is None:
        return None
    after = data[found.start() + 1]
    if 0xD0 <= after <= 0xD7:
        return None  # a restart marker without DRI, or one we did not expect
    return found.start()


# An AC table whose 15 symbols are the end-of-band runs EOB0..EOB14 (R << 4),
# all 4 bits long: symbol R gets the code R (canonical Huffman order).
_EOB_TABLE_ID = 0
_EOB_DHT = (
    b"\xff\xc4"
    + (2 + 1 + 16 + 15).to_bytes(2, "big")
    + bytes([0x10 | _EOB_TABLE_ID])
    + bytes([0, 0, 0, 15] + [0] * 12)
    + bytes(r << 4 for r in range(15))
)
_MAX_EOBRUN = (1 << 15) - 1


def _zero_scans(frame: Frame) -> list[bytes]:
    """One AC scan per fully sampled component that says "coefficient 1 is zero".

    Why: libjpeg's block smoothing (libjpeg-turbo 2.1+) also rewrites the DC
    coefficient of a block whose first AC coefficients were never sent, and
    the 1/8 decode would no longer match the full one. With coefficient 1
    known the DC is left alone, and at 1/8 scale no AC coefficient is read.
    The scan is a chain of end-of-band runs over every block.
    """
    scans = [_EOB_DHT]
    for component, full in frame.full.items():
        if not full:
            continue
        header = bytes([1, component, _EOB_TABLE_ID, 1, 1, 0])  # Ss = Se = 1, Ah = Al = 0
        scans.append(b"\xff\xda" + (2 + len(header)).to_bytes(2, "big") + header)
        scans.append(_eob_runs(frame.blocks(component)))
    return scans


def _eob_runs(blocks: int) -> bytes:
    """Entropy-coded data: end-of-band runs summing to ``blocks``, byte-stuffed."""
    bits = 0
    nbits = 0
    out = bytearray()
    left = blocks
    while left > 0:  # at most blocks / 32767 + 1 rounds
        run = min(left, _MAX_EOBRUN)
        left -= run
        r = run.bit_length() - 1
        bits = (bits << (4 + r)) | (r << r) | (run - (1 << r))
        nbits += 4 + r
        while nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
        bits &= (1 << nbits) - 1
    if nbits:
        out.append(((bits << (8 - nbits)) | ((1 << (8 - nbits)) - 1)) & 0xFF)  # pad with ones
    return bytes(out).replace(b"\xff", b"\xff\x00")

"""The one table of image formats: what thumbgen reads, how it recognises them, what it writes.

Sniffing (first bytes), opening (the Pillow plugins allowed), the watcher's
name filter, the README's list and the output encoders all derive their
lists from here, so a new format is one new row (plus, when Pillow cannot
decode it as it is, one decoder entry in :mod:`.decode`). A format read by a
library outside Pillow names that module; when it is not installed, the
format is still recognised and skipped with a line saying how to install it.
A format that is recognised but not readable at all carries the reason.

Pure data that imports no Pillow, so that the watcher's name filter stays
cheap; whether a module is installed is asked without importing it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Mapping

from thumbgen.messages import DISTRIBUTION, install_hint
from thumbgen.options import Format
from thumbgen.outputs import FILE_TYPES


@dataclasses.dataclass(frozen=True)
class Signature:
    """Bytes at fixed offsets that, all present, identify a format."""

    parts: tuple[tuple[int, bytes], ...]
    #: Weak signatures are short plain text (netpbm's ``P6 ``) that other files
    #: may start with too; they are believed only after every strong signature
    #: and ISO brand has been ruled out.
    weak: bool = False

    def matches(self, head: bytes) -> bool:
        """True when ``head`` (the file's first bytes) carries every part."""
        return all(head.startswith(magic, offset) for offset, magic in self.parts)


def _at(offset: int, magic: bytes) -> Signature:
    return Signature(((offset, magic),))


@dataclasses.dataclass(frozen=True)
class ImageFormat:
    """One input format."""

    #: thumbgen's name for it; what :func:`~thumbgen.imaging.sniff.sniff` returns.
    name: str
    #: Pillow plugins that decode it, passed to ``Image.open(formats=...)``.
    pillow_formats: tuple[str, ...]
    #: Lower-case file extensions with their dot; the watcher's name filter.
    extensions: tuple[str, ...]
    signatures: tuple[Signature, ...] = ()
    #: ISO-BMFF ``ftyp`` brands (major or compatible) that identify it.
    brands: tuple[bytes, ...] = ()
    #: Other names Pillow's ``im.format`` reports for it (MPO: multi-picture JPEG).
    pillow_aliases: tuple[str, ...] = ()
    #: How people write its name.
    label: str = ""
    #: Named in the "not an image" message, as a hint of what is readable.
    common: bool = False
    #: Set for a format that is recognised but not readable yet: why it is skipped.
    skip: str | None = None
    #: The Python module outside Pillow that reads it (a Pillow plugin, or a
    #: library a file decoder calls); None for Pillow's own decoders.
    module: str | None = None
    #: The PyPI distribution that installs :attr:`module`.
    package: str | None = None
    #: The optional extra of thumbgen-cli that installs it; None for a regular dependency.
    extra: str | None = None
    #: Its files may be TIFF files inside: told from TIFF by content (DNGVersion,
    #: Canon's "CR" marker) or, failing that, by one of :attr:`extensions`.
    tiff_based: bool = False
    #: XML documents whose root element has this name (``svg``).
    xml_root: str | None = None
    #: gzip-compressed files with one of these extensions (``.svgz``).
    gzip_extensions: tuple[str, ...] = ()
    #: The licences of :attr:`package` and what its wheels bundle, for the README.
    licence: str = ""

    @property
    def readable(self) -> bool:
        """True when thumbgen decodes this format (perhaps once its extra is installed)."""
        return self.skip is None

    @property
    def shown(self) -> str:
        """The name used in messages."""
        return self.label or self.name


# Camera RAW extensions LibRaw reads (DNG, Canon, Nikon, Sony, Fujifilm, Olympus,
# Panasonic/Leica, Pentax, Samsung, Hasselblad, Epson, Kodak, Leaf, Mamiya, Phase One).
_RAW_EXTENSIONS = (
    *(".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf"),
    *(".rw2", ".rwl", ".pef", ".srw", ".3fr", ".erf", ".kdc", ".dcr", ".mos", ".mef", ".iiq"),
)

# ISO-BMFF brands of video files: MP4 (ISO base media), QuickTime, Apple's M4V,
# 3GPP/3GPP2 phones, DASH segments, Sony XAVC. Audio-only files share some of
# them and are told apart when opened (no video stream).
_VIDEO_BRANDS = (
    *(b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1"),
    *(b"qt  ", b"M4V ", b"M4VH", b"M4VP", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gs7"),
    *(b"3ge6", b"3gg6", b"3g2a", b"3g2b", b"3g2c", b"dash", b"mmp4", b"MSNV", b"XAVC"),
    *(b"f4v ", b"hvc1", b"av01"),
)

_PYAV_LICENCE = "licence BSD-3-Clause (PyAV), LGPL-3.0+ (the FFmpeg in its wheels)"

# netpbm: "P1".."P6" and one whitespace byte (bytes.isspace: space, \t, \n, \v, \f, \r).
_NETPBM = tuple(
    Signature(((0, b"P%d%c" % (n, space)),), weak=True)
    for n in range(1, 7)
    for space in b" \t\n\r\x0b\x0c"
)

#: Every input format. The order is the order in which Pillow tries the plugins
#: when no signature decided (TGA has none, and its parser must keep coming
#: before PCX's, as it always has).
INPUTS: tuple[ImageFormat, ...] = (
    ImageFormat(
        "JPEG",
        ("JPEG",),
        (".jpg", ".jpeg", ".jpe", ".jfif"),
        (_at(0, b"\xff\xd8\xff"),),
        pillow_aliases=("MPO",),
        common=True,
    ),
    ImageFormat("PNG", ("PNG",), (".png", ".apng"), (_at(0, b"\x89PNG\r\n\x1a\n"),), common=True),
    ImageFormat("GIF", ("GIF",), (".gif",), (_at(0, b"GIF87a"), _at(0, b"GIF89a")), common=True),
    ImageFormat(
        "WEBP",
        ("WEBP",),
        (".webp",),
        (Signature(((0, b"RIFF"), (8, b"WEBP"))),),
        label="WebP",
        common=True,
    ),
    ImageFormat("AVIF", ("AVIF",), (".avif",), brands=(b"avif", b"avis", b"avio"), common=True),
    ImageFormat(
        "TIFF", ("TIFF",), (".tif", ".tiff"), (_at(0, b"II*\x00"), _at(0, b"MM\x00*")), common=True
    ),
    ImageFormat("BMP", ("BMP",), (".bmp",), (_at(0, b"BM"),), common=True),
    # A bare BMP info header (no "BM"): only Pillow's probe recognises it.
    ImageFormat("DIB", ("DIB",), (".dib",)),
    ImageFormat("ICO", ("ICO",), (".ico",), (_at(0, b"\x00\x00\x01\x00"),)),
    ImageFormat("PPM", ("PPM",), (".ppm", ".pgm", ".pbm", ".pnm"), _NETPBM),
    ImageFormat("TGA", ("TGA",), (".tga",)),  # no magic number: Pillow is asked
    ImageFormat(
        "JPEG2000",
        ("JPEG2000",),
        (".jp2", ".j2k", ".jpx"),
        (_at(0, b"\xff\x4f\xff\x51"), _at(0, b"\x00\x00\x00\x0cjP  \r\n\x87\n")),
        label="JPEG 2000",
    ),
    ImageFormat("PSD", ("PSD",), (".psd",), (_at(0, b"8BPS"),)),
    ImageFormat("QOI", ("QOI",), (".qoi",), (_at(0, b"qoif"),)),
    # PCX and SGI are read when given by name, but the watcher never looked for them.
    ImageFormat("PCX", ("PCX",), ()),
    ImageFormat("SGI", ("SGI",), ()),
    ImageFormat("DDS", ("DDS",), (".dds",), (_at(0, b"DDS "),)),
    # Every iPhone photo since 2017; libheif (in pillow-heif's wheels) decodes it.
    ImageFormat(
        "HEIF",
        ("HEIF",),
        (".heic", ".heif", ".hif"),
        brands=(b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"),
        label="HEIC/HEIF",
        common=True,
        module="pillow_heif",
        package="pillow-heif",
    ),
    ImageFormat(
        "JXL",
        ("JXL",),
        (".jxl",),
        (_at(0, b"\xff\x0a"), _at(0, b"\x00\x00\x00\x0cJXL \r\n\x87\n")),
        label="JPEG XL",
        module="pillow_jxl",
        package="pillow-jxl-plugin",
        extra="jxl",
    ),
    # Camera RAW through LibRaw (rawpy). DNG, NEF, ARW, PEF... are TIFF files
    # inside; ORF, RW2, RAF and CR3 have their own magic.
    ImageFormat(
        "RAW",
        (),
        _RAW_EXTENSIONS,
        (
            _at(0, b"IIRO"),
            _at(0, b"IIRS"),
            _at(0, b"MMOR"),
            _at(0, b"IIU\x00"),
            _at(0, b"FUJIFILMCCD-RAW "),
        ),
        brands=(b"crx ",),
        label="camera RAW",
        module="rawpy",
        package="rawpy",
        extra="raw",
        tiff_based=True,
    ),
    # Videos give a poster frame (thumbgen.imaging.video), through PyAV: FFmpeg's
    # libraries in its wheels. ISO-BMFF brands of MP4, QuickTime, M4V and 3GPP;
    # after AVIF and HEIF in this table, so that their brands win.
    ImageFormat(
        "MP4",
        (),
        (".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2"),
        # QuickTime files older than the ftyp box start with one of these atoms.
        (_at(4, b"moov"), _at(4, b"wide"), _at(4, b"mdat")),
        brands=_VIDEO_BRANDS,
        label="MP4/MOV video",
        module="av",
        package="av",
        extra="video",
        licence=_PYAV_LICENCE,
    ),
    ImageFormat(
        "MKV",
        (),
        (".mkv", ".webm"),
        (_at(0, b"\x1a\x45\xdf\xa3"),),  # EBML
        label="MKV/WebM video",
        module="av",
        package="av",
        extra="video",
        licence=_PYAV_LICENCE,
    ),
    ImageFormat(
        "AVI",
        (),
        (".avi",),
        (Signature(((0, b"RIFF"), (8, b"AVI "))),),
        label="AVI video",
        module="av",
        package="av",
        extra="video",
        licence=_PYAV_LICENCE,
    ),
    # The first page, rendered at the thumbnail's size (thumbgen.imaging.pdf).
    ImageFormat(
        "PDF",
        (),
        (".pdf",),
        (_at(0, b"%PDF-"),),
        label="PDF",
        module="pypdfium2",
        package="pypdfium2",
        extra="pdf",
        licence="licence Apache-2.0 or BSD-3-Clause (pypdfium2), BSD-3-Clause (PDFium)",
    ),
    ImageFormat(
        "SVG",
        (),
        (".svg", ".svgz"),
        label="SVG",
        module="resvg_py",
        package="resvg-py",
        extra="svg",
        xml_root="svg",
        gzip_extensions=(".svgz",),
    ),
)

#: Pillow's own plugins ``Image.open`` may try, in that order, on a file no
#: signature named; rarer Pillow decoders stay off (less attack surface). The
#: plugins of other packages are only asked for files their signature names.
READ_FORMATS: tuple[str, ...] = tuple(
    p for f in INPUTS if f.readable and f.module is None for p in f.pillow_formats
)

#: Extensions of the formats thumbgen reads (names only decide candidacy; content decides the rest).
READ_EXTENSIONS: frozenset[str] = frozenset(e for f in INPUTS if f.readable for e in f.extensions)

#: Strong signatures with their formats. No two can match the same bytes, so their order is free.
SIGNATURES: tuple[tuple[Signature, ImageFormat], ...] = tuple(
    (s, f) for f in INPUTS for s in f.signatures if not s.weak
)
#: Weak signatures, tried after :data:`SIGNATURES` and :data:`BRANDED`.
WEAK_SIGNATURES: tuple[tuple[Signature, ImageFormat], ...] = tuple(
    (s, f) for f in INPUTS for s in f.signatures if s.weak
)

#: Formats told by their ISO-BMFF brands, in table order (AVIF wins over HEIF's generic mif1).
BRANDED: tuple[ImageFormat, ...] = tuple(f for f in INPUTS if f.brands)

_BY_PILLOW: Mapping[str, ImageFormat] = {
    p: f for f in INPUTS for p in (*f.pillow_formats, *f.pillow_aliases)
}


def by_pillow(pillow_format: str | None) -> ImageFormat | None:
    """The input format behind Pillow's ``im.format`` (``"MPO"`` gives JPEG), or None."""
    return _BY_PILLOW.get(pillow_format or "")


#: Formats whose files may be TIFF files inside (camera RAW).
TIFF_BASED: tuple[ImageFormat, ...] = tuple(f for f in INPUTS if f.tiff_based)
#: Formats that are XML documents with a known root element (SVG).
XML_ROOTS: Mapping[str, ImageFormat] = {f.xml_root: f for f in INPUTS if f.xml_root}
#: Formats stored gzip-compressed under some extensions (SVGZ).
GZIPPED: tuple[ImageFormat, ...] = tuple(f for f in INPUTS if f.gzip_extensions)


@functools.cache
def importable(module: str) -> bool:
    """True when ``module`` can be imported; asked of the import system, not imported."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(fmt: ImageFormat) -> str | None:
    """Why ``fmt`` cannot be read here (its module is not installed), or None when it can."""
    if fmt.module is None or importable(fmt.module):
        return None
    if fmt.extra is not None:
        return f"{fmt.shown} needs the {fmt.extra} extra: {install_hint(fmt.extra)}"
    return (
        f"{fmt.shown} needs {fmt.package}, a dependency of {DISTRIBUTION} that is missing: "
        f"reinstall {DISTRIBUTION}"
    )


def readme_table() -> str:
    """The README's table of input formats, made from :data:`INPUTS` (a test keeps them equal)."""
    rows = ["| format | extensions | read by |", "|---|---|---|"]
    for fmt in INPUTS:
        if not fmt.readable or not fmt.extensions:
            continue
        by = "Pillow" if fmt.module is None else f"`{fmt.package}`"
        if fmt.extra is not None:
            by += f" (extra `{fmt.extra}`: `pipx install --force '.[{fmt.extra}]'`)"
        if fmt.licence:
            by += f"; {fmt.licence}"
        exts = " ".join(f"`{e}`" for e in fmt.extensions)
        rows.append(f"| {fmt.shown} | {exts} | {by} |")
    return "\n".join(rows) + "\n"


def article(label: str) -> str:
    """``"a"`` or ``"an"`` for a format's name as spoken: an AVIF, an SVG, a PNG."""
    return "an" if label[:1].upper() in "AEFILMNORSX" else "a"


def common_labels() -> str:
    """The readable formats worth naming to a user: ``"JPEG, PNG, GIF, ..."``."""
    return ", ".join(f.shown for f in INPUTS if f.common and f.readable and missing(f) is None)


@dataclasses.dataclass(frozen=True)
class OutputFormat:
    """One format thumbnails are written in, as the encoder sees it."""

    format: Format
    #: Pillow's encoder name for ``Image.save(format=...)``.
    pillow_format: str
    #: The encoder takes ``--quality``.
    takes_quality: bool
    #: Stores an alpha channel; otherwise transparency is flattened on the background.
    alpha: bool = True
    #: Stores greyscale; otherwise grey thumbnails are written as RGB.
    grey: bool = True

    @property
    def extension(self) -> str:
        """File extension without the dot (:data:`thumbgen.outputs.FILE_TYPES` names it)."""
        return FILE_TYPES[self.format].extension


#: Output format -> how it is written. ``Format.AUTO`` is resolved before this is asked.
OUTPUTS: Mapping[Format, OutputFormat] = {
    Format.JPEG: OutputFormat(Format.JPEG, "JPEG", takes_quality=True, alpha=False),
    Format.PNG: OutputFormat(Format.PNG, "PNG", takes_quality=False),
    Format.WEBP: OutputFormat(Format.WEBP, "WEBP", takes_quality=True, grey=False),
    Format.AVIF: OutputFormat(Format.AVIF, "AVIF", takes_quality=True, grey=False),
    Format.GIF: OutputFormat(Format.GIF, "GIF", takes_quality=False),
}

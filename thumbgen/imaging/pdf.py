"""PDFs through pypdfium2 (the pdf extra): the first page, rendered at the size the thumbnails need.

A page is vector art like an SVG, so it is rendered at the size of the
largest output box, not at a resolution of its own; ``--max-pixels`` is
checked on that size before rendering. PDFium renders the page with its
annotations (as a viewer shows it) but no form environment is set up, so no
JavaScript ever runs, and nothing outside the file is read. A file that
needs a password fails in one line. pypdfium2 is an optional extra,
imported only when a PDF is read.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.options import Options

from . import formats, geometry
from .decoders import Stored
from .reading import unsupported

#: PDFium's FPDF_GetLastError codes.
_ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 3, 4, 5
#: Pages are rendered this many times the size needed, then resampled down.
_SUPERSAMPLE = 2


def decode_pdf(f: BinaryIO, shown: str, options: Options) -> Stored:
    """The first page of the PDF open as ``f``, rendered for the largest output."""
    pdfium = _pdfium(shown)
    f.seek(0)
    try:
        document = pdfium.PdfDocument(f, autoclose=False)
    except pdfium.PdfiumError as exc:
        raise _refused(exc, shown) from None
    try:
        if len(document) == 0:
            raise CorruptImage(f"Corrupt image: {shown} is a PDF with no pages")
        pages = len(document)
        try:
            page = document[0]
        except pdfium.PdfiumError:
            # A page tree that names a page it cannot give (found by the fuzzer).
            raise CorruptImage(
                f"Corrupt image: {shown} is a PDF whose first page PDFium cannot load"
            ) from None
        try:
            width, height = page.get_size()
            if not (width > 0 and height > 0):
                raise CorruptImage(f"Corrupt image: {shown} is a PDF whose first page has no size")
            size = geometry.vector_size((width, height), options.specs)
            geometry.check_vector_size(size, shown, options.max_pixels, "rendered")
            # Twice the size, then Lanczos: PDFium samples images and thin
            # lines at the render size, which aliases; poppler smooths them.
            scale = _SUPERSAMPLE * size[0] / width
            try:
                bitmap = page.render(scale=scale, may_draw_forms=False)
                image = bitmap.to_pil().convert("RGB")
            except MemoryError:
                raise TooManyPixels(
                    f"Not enough memory to render {shown}; run fewer workers (-w)"
                ) from None
            except pdfium.PdfiumError as exc:
                raise CorruptImage(
                    f"Corrupt image: {shown} is a PDF whose first page PDFium cannot render ({exc})"
                ) from None
        finally:
            page.close()
    finally:
        document.close()
    # Points (1/72 inch), as PDF viewers give a page's size.
    media = {"pdf": {"pages": pages, "width": round(width, 2), "height": round(height, 2)}}
    return Stored(image, size, 1, media)


def _pdfium(shown: str) -> Any:
    try:
        import pypdfium2  # type: ignore[import-untyped]
    except ImportError:
        fmt = next(x for x in formats.INPUTS if x.name == "PDF")
        raise UnsupportedImage(f"Cannot read {shown}: {formats.missing(fmt)}") from None
    return pypdfium2


def _refused(exc: Any, shown: str) -> Exception:
    """The one-line error for a PDF PDFium would not open."""
    code = getattr(exc, "err_code", None)
    if code == _ERR_PASSWORD:
        return unsupported(shown, "a PDF protected by a password")
    if code == _ERR_SECURITY:
        return unsupported(shown, "a PDF encrypted by a security handler PDFium lacks")
    said = "damaged or truncated" if code == _ERR_FORMAT else str(exc)
    return CorruptImage(f"Corrupt image: {shown} is a PDF PDFium cannot read ({said})")

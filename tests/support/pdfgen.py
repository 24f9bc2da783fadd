"""PDFs made on the fly: Pillow's writer for pages, and a hand-written encrypted one."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def pdf(path: Path, pages: list[Image.Image], resolution: float = 72.0) -> Path:
    """A PDF of ``pages`` (Pillow writes each image as one page, ``resolution`` pixels an inch)."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=resolution)
    return path


def _document(objects: list[bytes], trailer: bytes) -> bytes:
    """A PDF with a correct cross-reference table for ``objects`` (numbered from 1)."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


def encrypted(path: Path) -> Path:
    """A PDF under the standard security handler whose user password is not empty.

    Its ``/U`` entry matches no password a reader would try unasked, which
    is what a password-protected file is to a reader without the password.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
        b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <%s> /U <%s> >>"
        % (b"11" * 32, b"22" * 32),
    ]
    ident = b"<0123456789abcdef0123456789abcdef>"
    trailer = b"<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [%s %s] >>" % (ident, ident)
    path.write_bytes(_document(objects, trailer))
    return path


def with_javascript(path: Path) -> Path:
    """A one-page PDF whose open action runs JavaScript (that would blank the page if it ran)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 37 >>\nstream\n1 0 0 rg 0 0 100 100 re f 0 0 1 rg\nendstream",
        b"<< /S /JavaScript /JS (app.alert('ran'); this.getField('x').value = 1;) >>",
    ]
    path.write_bytes(_document(objects, b"<< /Size 6 /Root 1 0 R >>"))
    return path

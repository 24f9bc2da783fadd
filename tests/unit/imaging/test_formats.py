"""The one table of formats: consistent in itself, and what sniff, open and watch derive from it."""

from __future__ import annotations

import collections
import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import sniff_file

from thumbgen.errors import NotAnImage
from thumbgen.imaging import decode, formats, plugins, reading
from thumbgen.imaging.sniff import NotImage
from thumbgen.options import Format
from thumbgen.watch.settle import IMAGE_EXTENSIONS, is_candidate

ALL_SIGNATURES = formats.SIGNATURES + formats.WEAK_SIGNATURES


def head_of(signature: formats.Signature, length: int = 64) -> bytes:
    """The shortest file start carrying ``signature``, zero-padded to ``length``."""
    head = bytearray(length)
    for offset, magic in signature.parts:
        head[offset : offset + len(magic)] = magic
    return bytes(head)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


def _sig_id(entry: tuple[formats.Signature, formats.ImageFormat]) -> str:
    signature, fmt = entry
    return f"{fmt.name}-{signature.parts[0][1]!r}"


# --- the table itself -----------------------------------------------------------------


def test_names_are_unique() -> None:
    names = [f.name for f in formats.INPUTS]
    assert len(names) == len(set(names))


def test_every_extension_maps_to_exactly_one_format() -> None:
    counts = collections.Counter(e for f in formats.INPUTS for e in f.extensions)
    assert [e for e, n in counts.items() if n > 1] == []
    for ext in counts:
        assert ext.startswith(".")
        assert ext == ext.lower()


def test_every_pillow_name_maps_to_exactly_one_format() -> None:
    counts = collections.Counter(
        p for f in formats.INPUTS for p in (*f.pillow_formats, *f.pillow_aliases)
    )
    assert [p for p, n in counts.items() if n > 1] == []
    for name in counts:
        found = formats.by_pillow(name)
        assert found is not None
        assert name in (*found.pillow_formats, *found.pillow_aliases)
    assert formats.by_pillow("MPO") is formats.by_pillow("JPEG")
    assert formats.by_pillow("XBM") is None
    assert formats.by_pillow(None) is None


def test_readable_formats_have_a_decoder_and_skipped_ones_a_reason() -> None:
    Image.init()
    for fmt in formats.INPUTS:
        if not fmt.readable:
            assert fmt.skip
            assert not fmt.pillow_formats  # nothing may try to decode it
        elif not fmt.pillow_formats:
            assert fmt.name in decode.FILE_DECODERS, fmt.name  # read by another library
            assert fmt.module, fmt.name
        elif fmt.module is None:
            assert all(p in Image.OPEN for p in fmt.pillow_formats), fmt.name
        elif formats.importable(fmt.module):
            plugins.register(fmt)  # a plugin of another package, loaded on demand
            assert all(p in Image.OPEN for p in fmt.pillow_formats), fmt.name
    assert reading.READ_FORMATS == formats.READ_FORMATS
    assert "MPO" not in formats.READ_FORMATS  # reached through JPEG's plugin, not tried alone


def test_plugins_of_other_packages_are_never_tried_blindly() -> None:
    # Only a file whose signature names HEIF or JPEG XL reaches their plugins.
    for fmt in formats.INPUTS:
        if fmt.module is not None:
            assert not set(fmt.pillow_formats) & set(formats.READ_FORMATS), fmt.name
            assert fmt.signatures or fmt.brands or fmt.tiff_based or fmt.xml_root, fmt.name


def test_formats_outside_pillow_name_their_package() -> None:
    for fmt in formats.INPUTS:
        if fmt.module is not None:
            assert fmt.package, fmt.name
        if fmt.extra is not None:
            assert fmt.module is not None, fmt.name


def test_tga_is_tried_before_pcx() -> None:
    # TGA has no magic number, so its parser runs on whatever reaches it; a
    # version-0 PCX parses as a TGA too, and has always been read as one.
    assert formats.READ_FORMATS.index("TGA") < formats.READ_FORMATS.index("PCX")


def test_every_output_format_is_in_the_table() -> None:
    Image.init()
    assert set(formats.OUTPUTS) == set(Format) - {Format.AUTO}
    extensions = [o.extension for o in formats.OUTPUTS.values()]
    assert len(extensions) == len(set(extensions))
    for out in formats.OUTPUTS.values():
        assert out.pillow_format in Image.SAVE
        assert not out.extension.startswith(".")


# --- sniff agrees with the table --------------------------------------------------------


@pytest.mark.parametrize("entry", ALL_SIGNATURES, ids=_sig_id)
def test_each_signature_is_sniffed(
    tmp_path: Path, entry: tuple[formats.Signature, formats.ImageFormat]
) -> None:
    signature, fmt = entry
    path = tmp_path / "file.bin"  # the name says nothing
    path.write_bytes(head_of(signature))
    assert sniff_file(str(path)) == fmt.name


@pytest.mark.parametrize("entry", formats.SIGNATURES, ids=_sig_id)
def test_strong_signatures_never_overlap(
    entry: tuple[formats.Signature, formats.ImageFormat],
) -> None:
    # Which is tried first must not matter, or adding a row could change a result.
    signature, fmt = entry
    head = head_of(signature)
    assert {f.name for s, f in formats.SIGNATURES if s.matches(head)} == {fmt.name}


@pytest.mark.parametrize(
    ("fmt", "brand"),
    [(f, b) for f in formats.BRANDED for b in f.brands],
    ids=lambda v: v.decode() if isinstance(v, bytes) else v.name,
)
@pytest.mark.parametrize("where", ["major", "compatible"])
def test_each_brand_is_sniffed(
    tmp_path: Path, fmt: formats.ImageFormat, brand: bytes, where: str
) -> None:
    head = ftyp(brand, b"miaf") if where == "major" else ftyp(b"miaf", b"miaf", brand)
    path = tmp_path / "file.bin"
    path.write_bytes(head + bytes(32))
    if fmt.readable:
        assert sniff_file(str(path)) == fmt.name
    else:
        assert fmt.skip is not None
        with pytest.raises(NotImage) as info:
            sniff_file(str(path))
        assert str(info.value) == fmt.skip


def test_a_format_whose_package_is_missing_is_skipped_with_how_to_install_it(
    tmp_path: Path, without_module: Callable[[str], None]
) -> None:
    heif = next(f for f in formats.INPUTS if f.name == "HEIF")
    without_module("pillow_heif")
    path = tmp_path / "photo.heic"
    path.write_bytes(ftyp(b"heic", b"mif1") + bytes(32))
    with pytest.raises(NotImage) as info:
        sniff_file(str(path))
    assert (
        str(info.value)
        == formats.missing(heif)
        == (
            "HEIC/HEIF needs pillow-heif, a dependency of thumbgen-cli that is missing: "
            "reinstall thumbgen-cli"
        )
    )


def test_avif_brand_wins_over_the_generic_heif_one(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(ftyp(b"mif1", b"mif1", b"avif") + bytes(32))
    assert sniff_file(str(tmp_path / "a")) == "AVIF"


def test_strong_signatures_beat_brands_and_brands_beat_weak_ones(tmp_path: Path) -> None:
    # The order sniff has always used: magic numbers, then ISO brands, then netpbm text.
    bmp_with_brand = b"BM\0\0ftypavif" + bytes(32)
    ppm_with_brand = b"P6 \nftypavif" + bytes(32)
    (tmp_path / "b").write_bytes(bmp_with_brand)
    (tmp_path / "p").write_bytes(ppm_with_brand)
    assert sniff_file(str(tmp_path / "b")) == "BMP"
    assert sniff_file(str(tmp_path / "p")) == "AVIF"


# --- the watcher and the messages agree with the table -------------------------------


def test_watcher_filter_is_the_readable_extensions() -> None:
    assert IMAGE_EXTENSIONS == formats.READ_EXTENSIONS
    for fmt in formats.INPUTS:
        for ext in fmt.extensions:
            for name in (f"photo{ext}", f"PHOTO{ext.upper()}"):
                assert is_candidate(os.path.join("/inbox", name)) is fmt.readable, name


def test_not_an_image_message_names_the_common_formats(tmp_path: Path) -> None:
    src = imagegen.text_as_jpg(tmp_path / "photo.jpg")
    with pytest.raises(NotAnImage) as info, open(src, "rb") as f, reading.open_image(f, str(src)):
        pass
    assert str(info.value) == (
        f"Not an image thumbgen can read: {src} "
        "(content is not JPEG, PNG, GIF, WebP, AVIF, TIFF, BMP, HEIC/HEIF or another known format)"
    )


README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.skipif(
    "## Formats" not in README.read_text(), reason="README has no Formats section yet"
)
def test_the_readme_lists_the_formats_of_the_table() -> None:
    # The README's table is formats.readme_table(); regenerate it after adding a row.
    assert formats.readme_table() in README.read_text()

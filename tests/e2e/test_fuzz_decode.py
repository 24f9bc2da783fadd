"""Fuzzing the decode path a worker runs, with real image bytes of every format.

In this process, but an end-to-end test all the same: SVG seeds are drawn
by the renderer's child process, as in a worker.

Seeds of JPEG, PNG, GIF, WebP, TIFF, AVIF and HEIC (and apart, slower: MP4,
WebM, PDF and animations, also with ``--animated``) (:mod:`support.fuzzing`)
are damaged in every way a file can be and run through the memory budget and
:func:`~thumbgen.thumbnailing.make_thumbnails` into a real output folder:
each ends in complete thumbnails, or in one :class:`~thumbgen.errors.ThumbgenError`
line with nothing left in the folder. The budget is small here;
``nox -s fuzz`` runs the same tests with ``THUMBGEN_FUZZ_EXAMPLES`` examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from support import imagegen, pdfgen
from support.fuzzing import JOBS, MEDIA_JOBS, examples, media_seeds, mutated, run_job, seeds
from support.rawgen import dng

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@pytest.mark.parametrize(("ext", "data"), seeds(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_seed_makes_thumbnails(ext: str, data: bytes) -> None:
    # Undamaged, each seed must pass: else the mutations start from a failure.
    assert run_job(data, ext) == "done"


@settings(max_examples=examples(400), deadline=None, suppress_health_check=_SLOW_OK)
@given(mutated(), JOBS)
# Found by this test: a TIFF signature with its IFD offset cut off raised struct.error.
@example(("tif", b"II*\x00\x08\x00"), {"sizes": ["64"]})
def test_every_damaged_file_ends_in_thumbnails_or_one_error_line(
    case: tuple[str, bytes], job: dict[str, Any]
) -> None:
    ext, data = case
    run_job(data, ext, job)


@pytest.mark.parametrize("animated", [False, True])
@pytest.mark.parametrize(
    ("ext", "data"), media_seeds(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_media_seed_makes_thumbnails(ext: str, data: bytes, animated: bool) -> None:
    assert run_job(data, ext, {"sizes": ["48"], "animated": animated}) == "done"


@settings(max_examples=examples(120), deadline=None, suppress_health_check=_SLOW_OK)
@given(mutated(media_seeds), MEDIA_JOBS)
def test_every_damaged_video_pdf_or_animation_ends_in_thumbnails_or_one_error_line(
    case: tuple[str, bytes], job: dict[str, Any]
) -> None:
    ext, data = case
    run_job(data, ext, job)


def test_a_dng_with_a_garbled_ifd_fails_in_one_line(tmp_path: Path) -> None:
    # Found by this fuzzer: two bytes inserted in the raw IFD made LibRaw demosaic
    # to a 1x1 one-channel array, and Image.fromarray(..., "RGB") raised TypeError
    # (an internal error in a worker).
    data = dng(tmp_path / "a.dng").read_bytes()
    assert run_job(data[:489] + b"\0\0" + data[489:], "dng") == "failed: CorruptImage"


def test_an_animation_cut_after_a_frame_header_still_gets_a_thumbnail(tmp_path: Path) -> None:
    # Found by this fuzzer: a GIF cut right after its last image descriptor made
    # Pillow's n_frames raise IndexError under --animated (an internal error);
    # the still pipeline now shows its first frame.
    gif = imagegen.animated(tmp_path / "a.gif", "GIF").read_bytes()
    at = gif.rfind(b"!\xf9\x04")  # the last frame's graphic control extension
    assert run_job(gif[: at + 8 + 10], "gif", {"sizes": ["48"], "animated": True}) == "done"


def test_a_pdf_whose_page_tree_is_garbled_fails_in_one_line(tmp_path: Path) -> None:
    # Found by this fuzzer: a byte in /Count let PDFium open the file and count
    # its pages but not load the first, and its PdfiumError was an internal error.
    pdf = pdfgen.pdf(tmp_path / "a.pdf", [imagegen.asymmetric((64, 48))] * 2).read_bytes()
    bad = pdf.replace(b"/Count 2", b"/Count\x012")
    assert bad != pdf
    assert run_job(bad, "pdf", {"sizes": ["48"]}) == "failed: CorruptImage"

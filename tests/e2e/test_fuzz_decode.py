"""Fuzzing the decode path a worker runs, with real image bytes of every format.

In this process, but an end-to-end test all the same: SVG seeds are drawn
by the renderer's child process, as in a worker.

Seeds of JPEG, PNG, GIF, WebP, TIFF, AVIF and HEIC (:mod:`support.fuzzing`)
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
from support.fuzzing import JOBS, examples, mutated, run_job, seeds
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


def test_a_dng_with_a_garbled_ifd_fails_in_one_line(tmp_path: Path) -> None:
    # Found by this fuzzer: two bytes inserted in the raw IFD made LibRaw demosaic
    # to a 1x1 one-channel array, and Image.fromarray(..., "RGB") raised TypeError
    # (an internal error in a worker).
    data = dng(tmp_path / "a.dng").read_bytes()
    assert run_job(data[:489] + b"\0\0" + data[489:], "dng") == "failed: CorruptImage"

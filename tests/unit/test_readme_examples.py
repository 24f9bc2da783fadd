"""The README's shell examples work on any queue, not only on a fresh one.

The HTTP API example fetched ``/jobs/1``: on a queue that already held jobs
that was someone else's job (and its ``thumbnails`` URL, or the dashboard's
HTML saved as ``thumb.webp``). Its job id must come from the upload's answer.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"^## HTTP API\n(.*?)^## ", re.S | re.M)
BLOCK = re.compile(r"^```\n(.*?)^```", re.S | re.M)


def commands_of(section: str) -> list[str]:
    """The lines of the section's code blocks that run curl."""
    return [
        line for block in BLOCK.findall(section) for line in block.splitlines() if "curl " in line
    ]


def test_the_curl_examples_take_the_job_id_from_the_upload_answer() -> None:
    section = SECTION.search((ROOT / "README.md").read_text())
    assert section is not None
    lines = commands_of(section.group(1))
    assert any("/jobs/$id" in line for line in lines)
    fixed = [line for line in lines if re.search(r"/jobs/\d", line)]
    assert not fixed, f"job ids written into the examples: {fixed}"
    assigned = re.search(r"^id=\$\(.*\[\"files\"\]\[0\]\[\"id\"\]", section.group(1), re.M)
    assert assigned, "the example's $id does not come from the upload's answer"

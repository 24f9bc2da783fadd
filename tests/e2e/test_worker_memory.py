"""Workers reuse freed memory: a second large buffer costs no fresh page faults.

libjpeg's coefficient buffer of a progressive photo is tens of MB, allocated
and freed once per job; glibc would map and unmap it every time (about 18,000
page faults per 24 MP photo). ``worker.keep_freed_memory`` keeps it in the
heap. Each check runs in a fresh interpreter: the setting is per process.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

_FAULTS = """
import resource, sys
from thumbgen.workers.consumer import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
size = 64 << 20  # above glibc's largest mmap threshold (32 MB)
buffer = bytearray(size)  # zero-filled: every page touched
del buffer
before = faults()
buffer = bytearray(size)
print(faults() - before)
"""


def _second_buffer_faults(mode: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_large_buffer_is_reused_without_page_faults() -> None:
    pages = (64 << 20) // 4096
    # Without the setting the second buffer is mapped afresh: a fault per page.
    assert _second_buffer_faults("default") > pages // 2
    assert _second_buffer_faults("keep") < pages // 10

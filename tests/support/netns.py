"""Test "machines": network namespaces joined to the root namespace by veth pairs.

Nothing leaves this host: each namespace reaches only the root namespace's
end of its own link (where the test's servers listen), and a link taken down
cuts that machine off as a pulled cable would.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextlib.contextmanager
def machine(name: str, subnet: int) -> Iterator[tuple[str, str]]:
    """Namespace ``name`` linked to the root namespace: (root-side link, Redis address)."""
    outside, inside = f"{name}o", f"{name}i"
    ip("netns", "add", name)
    try:
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", name)
        ip("addr", "add", f"10.231.{subnet}.1/24", "dev", outside)
        ip("link", "set", outside, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"10.231.{subnet}.2/24", "dev", inside)
        ip("netns", "exec", name, "ip", "link", "set", inside, "up")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield outside, f"10.231.{subnet}.1"
    finally:
        subprocess.run(["ip", "link", "del", outside], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)

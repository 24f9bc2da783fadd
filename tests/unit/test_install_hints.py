"""Install hints work: thumbgen-cli is not on the package index, so none may name it there.

``pip install 'thumbgen-cli[server]'`` and ``pipx install 'thumbgen-cli[raw]'``
fail for everyone. Every hint installs from the checkout (``'.[server]'``) or
injects the extra's own packages, which the installed metadata (an editable
install's or a built wheel's alike) declares.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from thumbgen.messages import extra_requirements, install_hint

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
#: Installing the distribution by name, from an index that does not have it.
BY_NAME = re.compile(r"""(pip|pipx) install (--force )?['"]?thumbgen-cli\[""")


@pytest.mark.parametrize("extra", ["server", "redis", "s3", "raw", "jxl", "svg"])
def test_each_hint_installs_from_the_checkout_or_injects_the_packages(extra: str) -> None:
    hint = install_hint(extra)
    assert f"pipx install --force '.[{extra}]'" in hint
    assert f"pip install '.[{extra}]'" in hint

    def names(requirements: list[str]) -> list[str]:
        return sorted(re.split(r"[<>=!~;\[ ]", r)[0].lower() for r in requirements)

    # The installed metadata (what a built wheel carries too) declares the extra.
    assert names(extra_requirements(extra)) == names(EXTRAS[extra])
    injected = " ".join(f"'{p}'" for p in extra_requirements(extra))
    assert f"pipx inject thumbgen-cli {injected}" in hint
    assert not BY_NAME.search(hint)


def test_no_message_or_readme_line_installs_thumbgen_cli_by_name() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "thumbgen").rglob("*.py"))]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BY_NAME.search(line)
    ]
    assert not found, f"install thumbgen-cli by name from an index that lacks it: {found}"

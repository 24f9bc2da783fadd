"""The reference picture of a web format: Debian's chromium decodes the file, as a browser shows it.

Chromium decodes GIF, PNG, BMP, SVG and AVIF with the decoders every web
page relies on (libavif for AVIF, resvg-like rules for nothing: Skia/Blink
for SVG), so its pixels are a fair independent reference for what a
thumbnail of such a file should look like. The file is drawn onto a canvas
at the size asked for and read back unscaled with ``getImageData``, so the
comparison sees exact RGBA values, transparency included, with no
screenshot or page background in between.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from .needs import missing

CHROMIUM = "/usr/bin/chromium"
_MEDIA = {
    ".gif": "image/gif",
    ".png": "image/png",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
    ".avif": "image/avif",
}
_DRAW = """async ([src, width, height]) => {
  const img = new Image();
  img.src = src;
  try { await img.decode(); } catch (e) { return null; }
  const w = width || img.naturalWidth, h = height || img.naturalHeight;
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0, w, h);
  return [w, h, Array.from(ctx.getImageData(0, 0, w, h).data)];
}"""


class Reference:
    """One headless chromium; :meth:`render` gives a file's pixels as chromium decodes them."""

    def __init__(self, browser: object) -> None:
        self._browser = browser

    def render(self, path: Path, size: tuple[int, int] | None = None) -> Image.Image | None:
        """``path`` decoded by chromium as RGBA (at ``size``, else its own); None if it refuses."""
        from playwright.sync_api import Browser

        assert isinstance(self._browser, Browser)
        media = _MEDIA[path.suffix.lower()]
        src = f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"
        page = self._browser.new_page()
        try:
            result = page.evaluate(_DRAW, [src, *(size or (0, 0))])
        finally:
            page.close()
        if result is None:
            return None
        width, height, data = result
        return Image.frombytes("RGBA", (width, height), bytes(data))


@contextmanager
def chromium() -> Iterator[Reference]:
    """A headless chromium for reference renders; skips (fails in CI) when it is missing."""
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is missing (apt-get install -y chromium, as .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield Reference(browser)
        finally:
            browser.close()

"""Make thumbnails from Python, without the queue.

Run from the project folder: python examples/library.py
"""

from pathlib import Path

import thumbgen

HERE = Path(__file__).parent

# Two outputs per photo from one decode: a 256 px box and a 128 px square crop.
options = thumbgen.build_options(["256", "128x128"], fit="cover", out_dir="thumbnails")

for photo in sorted((HERE / "images").glob("*.jpg")):
    for thumb in thumbgen.make_thumbnails(str(photo), options):
        print(f"{photo.name} -> {thumb.path} ({thumb.width}x{thumb.height})")

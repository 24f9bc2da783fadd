"""The imaging core: one source file in, every requested thumbnail out.

Nothing here knows about queues, watching or the terminal, and nothing prints.

- ``formats``: the one table of input and output formats;
- ``sniff``, ``headers``: a file's format from its first bytes; sizes and layouts from headers;
- ``reading``, ``plugins``: opening a source, with one-line errors; other packages' plugins;
  ``pillow_limits``: Pillow's decompression-bomb check, lifted while a header is read;
- ``decode``: decoding once, small, upright and sRGB, through a decoder per format
  (``decoders``: the basic ones; ``fixups``: TIFF samples, BMP alpha; ``heif``, ``jxl``,
  ``raw``, ``svg`` with its drawing process ``svg_render``);
- ``colour``, ``geometry``: sRGB conversion (``profiles/``: the default CMYK profile);
  resize, crop and pad plans;
- ``pipeline``: ``make_thumbnails``, resampling and encoding each output;
- ``atomic``: writing a file that appears only when complete.
"""

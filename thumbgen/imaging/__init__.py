"""The imaging core: one source stream in, every requested thumbnail out as encoded bytes.

Nothing here knows about queues, watching, storage or the terminal, and
nothing prints or opens a file: the caller hands in an open stream and
stores what comes back (:mod:`thumbgen.thumbnailing`). Names appear only in
messages (and a camera RAW's extension breaks a tie between formats).

- ``formats``: the one table of input and output formats;
- ``sniff``, ``headers``: a file's format from its first bytes; sizes and layouts from headers;
- ``reading``, ``plugins``: opening a source stream with Pillow, with one-line errors;
  other packages' plugins;
  ``pillow_limits``: Pillow's decompression-bomb check, lifted while a header is read;
- ``decode``: decoding once, small, upright and sRGB, through a decoder per format
  (``decoders``: the basic ones; ``fixups``: BMP alpha, grey PNG keys, GIF canvas;
  ``tiff``: signed, float and 16-bit CIELab samples; ``heif``, ``jxl``, ``raw``, ``svg``
  with its drawing process ``svg_render``);
- ``colour``, ``geometry``: sRGB conversion (``profiles/``: the default CMYK profile);
  resize, crop and pad plans;
- ``pipeline``: ``encode_all``, resampling and encoding each output into memory.
"""

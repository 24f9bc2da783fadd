"""The imaging core: one source file in, every requested thumbnail out.

Nothing here knows about queues, watching or the terminal, and nothing prints.

- ``formats``: the one table of input and output formats;
- ``sniff``: a file's format from its first bytes;
- ``reading``: opening a source, with one-line errors;
- ``decode``: decoding once, small, upright and sRGB, through a decoder per format;
- ``colour``, ``geometry``: sRGB conversion; resize, crop and pad plans;
- ``pipeline``: ``make_thumbnails``, resampling and encoding each output;
- ``atomic``: writing a file that appears only when complete.
"""

"""``python -m thumbgen``: the same as the ``thumbgen`` command."""

from thumbgen.cli import main

main()

"""``python -m thumbgen``: the same as the ``thumbgen`` command."""

from .cli import main

main()

"""``python -m rdp.cli``: the ``rdp`` console script."""

from rdp.cli import run

run()

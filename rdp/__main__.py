"""``python -m rdp``: the ``rdp`` console script."""

from rdp.cli import run

run()

"""``rdp demo``: a tour of the toolkit on built-in defaults."""

from __future__ import annotations

from pathlib import Path


def run_demo(out: Path, *, quick: bool = False) -> None:
    """Placeholder until the solvers land."""
    raise NotImplementedError

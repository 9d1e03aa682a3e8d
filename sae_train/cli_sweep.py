"""``rdp sweep`` (filled in by the sweep issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the sweep subcommand."""
    return None

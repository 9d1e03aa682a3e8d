"""``rdp reproduce`` (filled in by the sweep issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the reproduce subcommand."""
    return None

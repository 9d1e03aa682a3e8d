"""Subcommands contributed by `audit` (filled in by its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the `rdp` app."""
    return None

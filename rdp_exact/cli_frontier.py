"""``rdp theory`` and ``rdp frontier`` (filled in with rdp_exact.theory and rdp_exact.frontier)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the theory and frontier subcommands."""
    return None

"""Domain errors shared by every rdp package.

The CLI turns :class:`InvalidArgument` into one line on stderr and exit code 2, so every message must
name the offending value and, where possible, say how to fix it.
"""

from __future__ import annotations


class InvalidArgument(ValueError):
    """Bad user input: a malformed file, an impossible option, an unwritable path."""


class PMFError(InvalidArgument):
    """A concept pmf file or generator spec violates a rule of DESIGN §5.1."""


class SolverUnavailable(InvalidArgument):
    """The requested solver cannot handle this instance (too large, missing backend)."""

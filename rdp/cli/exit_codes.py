"""Exit codes of the ``rdp`` console script (DESIGN §5.2), in one enum."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means."""

    OK = 0
    """Done."""
    SOME_FAILED = 1
    """``rdp sweep``: some jobs failed (the rest are stored); ``rdp falsify``: a claim was falsified."""
    INVALID = 2
    """Invalid input or usage: one line on stderr, nothing written."""
    INFEASIBLE = 3
    """Infeasible budgets (``rdp falsify``: only mutants survived at this budget)."""
    LIMIT = 4
    """A limit was reached without a proof; the best SAE found is still written, status ``limit``."""
    CLAIM_FALSIFIED = 1
    """``rdp falsify``: a claim was falsified (alias of SOME_FAILED)."""
    MUTANT_SURVIVED = 3
    """``rdp falsify``: no claim falsified, but a mutant survived this budget (alias of INFEASIBLE)."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C or SIGTERM)."""

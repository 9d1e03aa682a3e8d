"""Example budgets of the claim tests under the Hypothesis profile chosen by ``HYPOTHESIS_PROFILE``.

The profiles themselves (``ci`` 60 examples, derandomised; ``dev`` 30; ``deep`` 2000) are registered by
the repository's ``conftest.py``. Each claim declares how many examples its test runs under ``ci``
(``Claim.ci_examples``, smaller for expensive checks); other profiles scale that number by their
``max_examples`` relative to ``ci``'s 60.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

#: max_examples of the ``ci`` profile.
CI_MAX_EXAMPLES = 60

#: Health checks the claim tests suppress: instances are small but each example runs exact solves,
#: and some claims filter on their hypothesis (C-T4: D*_k < D_min).
SUPPRESSED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def examples(ci_examples: int) -> int:
    """Examples for a test that runs ``ci_examples`` under ``ci``, scaled to the active profile."""
    current = settings.default.max_examples
    return max(1, round(ci_examples * current / CI_MAX_EXAMPLES))


def claim_settings(ci_examples: int) -> settings:
    """``settings`` for a claim test: the active profile with the scaled example budget."""
    return settings(max_examples=examples(ci_examples), deadline=None, suppress_health_check=SUPPRESSED)

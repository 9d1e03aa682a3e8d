"""The validators of ``rdp_exact.validate``: each returns the normalised value or raises one line naming it."""

from __future__ import annotations

import numpy as np
import pytest

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF
from rdp_exact.validate import (
    check_bool,
    check_count,
    check_float,
    check_instance,
    check_object,
    check_str,
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_count("width", 0), "^width must be at least 1, got 0$"),
        (lambda: check_count("k", 2.0), "^k must be an integer, got 2.0$"),
        (lambda: check_count("k", True), "^k must be an integer, got True$"),
        (lambda: check_count("jobs", 1, min=2), "^jobs must be at least 2, got 1$"),
        (lambda: check_float("tau", 1.0, min=0.0, max=1.0, max_exclusive=True),
         r"^tau must be a finite number in \[0.0, 1.0\), got 1.0$"),
        (lambda: check_float("c", 0.0, min=0.0, max=1.0, min_exclusive=True, max_exclusive=True),
         r"^c must be a finite number in \(0.0, 1.0\), got 0.0$"),
        (lambda: check_float("x", 3.0, max=2.0, max_exclusive=True), "^x must be a finite number < 2.0, got 3.0$"),
        (lambda: check_bool("flag", 1), "^flag must be true or false, got 1$"),
        (lambda: check_bool("flag", "yes"), "^flag must be true or false, got 'yes'$"),
        (lambda: check_object("cfg", [1]), "^cfg must be a JSON object, got an array$"),
        (lambda: check_object("cfg", None), "^cfg must be a JSON object, got null$"),
        (lambda: check_object("cfg", 3.5), "^cfg must be a JSON object, got a number$"),
        (lambda: check_instance("pmf", "cooccur3", ConceptPMF), "^pmf must be a ConceptPMF, got str$"),
        (lambda: check_str("--where", "   "), "^--where must be a non-empty string, got '   '$"),
        (lambda: check_str("--where", 3), "^--where must be a string, got 3$"),
    ],
)
def test_bad_values_raise_one_line_naming_the_value(call: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as info:
        call()  # type: ignore[operator]
    assert "\n" not in str(info.value)


def test_good_values_come_back_normalised() -> None:
    n = check_count("width", np.int64(3))
    assert n == 3 and type(n) is int
    assert check_float("tau", 0.999, min=0.0, max=1.0, max_exclusive=True) == 0.999
    assert check_float("tau", 0, min=0.0, max=1.0, max_exclusive=True) == 0.0  # the closed end is allowed
    assert check_bool("flag", False) is False
    d = {"a": 1}
    assert check_object("cfg", d) is d
    assert check_str("--where", " a > 1 ") == " a > 1 "
    assert check_str("name", "", allow_empty=True) == ""

"""Validators for user-supplied values: one place for the type and range checks of every config.

Each ``check_*`` function returns the value (normalised: ``int`` for integers, ``float`` for numbers) or
raises :class:`~rdp_exact.errors.InvalidArgument` with a one-line message that names the value, e.g.
``seed must be an integer ≥ 0, got -1``. Booleans are never accepted as numbers (``True`` is an ``int``
in Python, but ``--width true`` is a mistake). The ``name`` argument is how the message names the value:
use the flag or key the user typed (``"--dgp-seed"``, ``"width"``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Iterable
from typing import Any, TypeVar

from rdp_exact.errors import InvalidArgument

T = TypeVar("T")

#: Largest seed numpy's generators accept comfortably (``default_rng`` takes any int ≥ 0; torch takes
#: < 2**64). Seeds are kept below 2**63 so that every consumer (numpy, torch, SQLite) can store them.
MAX_SEED = 2**63 - 1


def _bounds(min: float | None, max: float | None) -> str:
    if min is not None and max is not None:
        return f" in [{min}, {max}]"
    if min is not None:
        return f" ≥ {min}"
    if max is not None:
        return f" ≤ {max}"
    return ""


def is_int(v: Any) -> bool:
    """Whether ``v`` is an integer value that is not a bool (Python or numpy integer)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and type(v).__name__ != "bool_"


def check_int(name: str, v: Any, *, min: int | None = None, max: int | None = None) -> int:
    """``v`` as an ``int``, checked to be an integer (not a bool) within ``[min, max]``."""
    if not is_int(v):
        raise InvalidArgument(f"{name} must be an integer{_bounds(min, max)}, got {v!r}")
    i = int(v)
    if (min is not None and i < min) or (max is not None and i > max):
        raise InvalidArgument(f"{name} must be an integer{_bounds(min, max)}, got {i}")
    return i


def check_count(name: str, v: Any, *, min: int = 1) -> int:
    """``v`` as an ``int`` ≥ ``min`` (a size or a cap such as m or k).

    Messages: ``width must be an integer, got 2.0`` (not an integer) or ``k must be at least 1, got 0``."""
    if not is_int(v):
        raise InvalidArgument(f"{name} must be an integer, got {v!r}")
    i = int(v)
    if i < min:
        raise InvalidArgument(f"{name} must be at least {min}, got {i}")
    return i


def check_float(
    name: str,
    v: Any,
    *,
    min: float | None = None,
    max: float | None = None,
    min_exclusive: bool = False,
    max_exclusive: bool = False,
    allow_inf: bool = False,
) -> float:
    """``v`` as a ``float``, checked to be a real number (not a bool, not NaN) within the bounds.

    Infinities are refused unless ``allow_inf``; ``min_exclusive`` / ``max_exclusive`` make a bound strict.
    """
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or type(v).__name__ == "bool_":
        raise InvalidArgument(f"{name} must be a number, got {v!r}")
    f = float(v)
    if math.isnan(f):
        raise InvalidArgument(f"{name} must be a number, got nan")
    if math.isinf(f) and not allow_inf:
        raise InvalidArgument(f"{name} must be a finite number, got {f}")
    lo_bad = min is not None and (f <= min if min_exclusive else f < min)
    hi_bad = max is not None and (f >= max if max_exclusive else f > max)
    if lo_bad or hi_bad:
        if max_exclusive and max is not None:
            rng = (f" < {max}" if min is None else
                   f" in {'(' if min_exclusive else '['}{min}, {max})")
        elif min_exclusive and min is not None:
            rng = f" > {min}" + (f" and ≤ {max}" if max is not None else "")
        else:
            rng = _bounds(min, max)
        raise InvalidArgument(f"{name} must be a {'finite ' if not allow_inf else ''}number{rng}, got {f!r}")
    return f


def check_finite(name: str, v: Any, *, min: float | None = None, max: float | None = None,
                 positive: bool = False) -> float:
    """A finite number within ``[min, max]`` (``positive``: strictly > 0)."""
    if positive:
        return check_float(name, v, min=0.0, max=max, min_exclusive=True)
    return check_float(name, v, min=min, max=max)


def check_optional_finite(name: str, v: Any, *, positive: bool = False, min: float | None = None) -> float | None:
    """None, or a finite number (see :func:`check_finite`)."""
    return None if v is None else check_finite(name, v, positive=positive, min=min)


def check_seed(name: str, v: Any) -> int:
    """A random seed: an integer in ``[0, 2**63 − 1]``."""
    i = check_int(name, v, min=0)
    if i > MAX_SEED:
        raise InvalidArgument(f"{name} must be an integer ≥ 0 and below 2**63, got {i}")
    return i


def check_choice(name: str, v: Any, choices: Collection[T]) -> T:
    """``v`` when it is one of ``choices`` (compared with ``==``; the message lists them)."""
    try:
        ok = v in choices
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        raise InvalidArgument(f"{name} must be one of {', '.join(map(str, choices))}, got {v!r}")
    return v  # type: ignore[no-any-return]


def check_distinct(name: str, values: Iterable[Any]) -> tuple[Any, ...]:
    """``values`` as a tuple, refusing repeats (``--k 1 --k 1`` would do the same work twice)."""
    out = tuple(values)
    seen: set[Any] = set()
    for v in out:
        if v in seen:
            raise InvalidArgument(f"{name} lists {v!r} twice; give each value once")
        seen.add(v)
    return out


def check_str(name: str, v: Any, *, allow_empty: bool = False) -> str:
    """A string; unless ``allow_empty`` it must hold something other than whitespace."""
    if not isinstance(v, str):
        raise InvalidArgument(f"{name} must be a string, got {v!r}")
    if not v.strip() and not allow_empty:
        raise InvalidArgument(f"{name} must be a non-empty string, got {v!r}")
    return v


def check_bool(name: str, v: Any) -> bool:
    """``v`` when it is ``True`` or ``False`` (not 0/1, not a string)."""
    if not isinstance(v, bool):
        raise InvalidArgument(f"{name} must be true or false, got {v!r}")
    return v


def check_object(name: str, v: Any) -> dict[str, Any]:
    """``v`` when it is a JSON object (a ``dict``); the message names the JSON type given."""
    if not isinstance(v, dict):
        raise InvalidArgument(f"{name} must be a JSON object, got {_json_type(v)}")
    return v


def _json_type(v: Any) -> str:
    names = {list: "an array", tuple: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    for t, label in names.items():
        if isinstance(v, t):
            return label
    return "a number" if isinstance(v, numbers.Number) else type(v).__name__


def check_instance(name: str, v: Any, cls: type[T]) -> T:
    """``v`` when it is an instance of ``cls`` (the message names the type expected and the type given)."""
    if not isinstance(v, cls):
        raise InvalidArgument(f"{name} must be a {cls.__name__}, got {type(v).__name__}")
    return v


def printable(s: str) -> str:
    """``s`` with control characters escaped (``\\n``, ``\\x1b``), safe to print on a terminal."""
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


__all__ = [
    "MAX_SEED",
    "check_bool",
    "check_choice",
    "check_count",
    "check_distinct",
    "check_finite",
    "check_float",
    "check_instance",
    "check_int",
    "check_object",
    "check_optional_finite",
    "check_seed",
    "check_str",
    "is_int",
    "printable",
]

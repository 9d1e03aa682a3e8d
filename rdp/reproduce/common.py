"""Helpers shared by the ``rdp reproduce`` targets: validated numbers, CSV text, result records."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import csv_text  # noqa: F401  (re-exported for the targets)


def check_int(name: str, v: Any, lo: int, hi: int | None = None) -> None:
    """InvalidArgument unless ``v`` is an int in [lo, hi]."""
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        bound = f"[{lo}, {hi}]" if hi is not None else f"≥ {lo}"
        raise InvalidArgument(f"{name} must be an integer {bound}, got {v!r}")


def check_float(name: str, v: Any, lo: float, hi: float | None = None, *, open_lo: bool = False) -> None:
    """InvalidArgument unless ``v`` is a finite number in [lo, hi] ((lo, hi] with ``open_lo``)."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > lo if open_lo else v >= lo) and (hi is None or v <= hi)
    if not ok:
        left = "(" if open_lo else "["
        bound = f"{left}{lo}, {hi}]" if hi is not None else ("> " if open_lo else "≥ ") + f"{lo}"
        raise InvalidArgument(f"{name} must be a finite number in {bound}, got {v!r}")


def fmt(v: float | None, digits: int = 4) -> str:
    """Short number for text: ``–`` for None/NaN, ``∞`` for infinity."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return f"{v:.{digits}g}"


@dataclass(frozen=True)
class TargetResult:
    """What one reproduce target wrote."""

    target: str
    out: Path
    files: tuple[Path, ...]
    """Final paths (under ``out``) of every file written."""
    summary: dict[str, Any] = field(default_factory=dict)
    """Headline numbers (also in the target's JSON file)."""
    lines: tuple[str, ...] = ()
    """Plain-language summary lines for the terminal."""


@contextlib.contextmanager
def torch_threads(device: str) -> Iterator[None]:
    """On CPU, run torch with one intra-op thread inside the block (restored after).

    The toy SAEs are tiny: extra OpenMP threads only add synchronisation, which on a shared machine costs
    far more than it gains (a 256-sample ``searchsorted`` is ~60× slower with two contended threads)."""
    import torch

    from sae_train.train import resolve_device

    if resolve_device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_target(target: str, heading: str, section_text: str, out: Any, compute: Any, write: Any,
               lines: Any, summary: Any, *, check: Any = None) -> TargetResult:
    """The shared ``run_*`` wrapper of every target: check ``out`` (and ``check()``, e.g. data files) before any
    work, ``data = compute()``, then ``write(data, tmp)`` plus an ``index.html`` through a staging folder (all or
    nothing). ``lines(data)`` gives the summary sentences, ``summary(data)`` the headline numbers."""
    from rdp.html_report import Section, write_html_report
    from rdp_exact.io_utils import check_writable_dir, staged_dir

    out_p = check_writable_dir(out)
    if check is not None:
        check()
    data = compute()
    text = list(lines(data))
    with staged_dir(out_p) as tmp:
        files = list(write(data, tmp))
        rels = tuple(p.relative_to(tmp).as_posix() for p in files)
        files.append(write_html_report(tmp, f"rdp reproduce {target}", [Section(heading, section_text, rels)],
                                       intro="\n\n".join(text)))
        final = [out_p / p.relative_to(tmp) for p in files]
    return TargetResult(target, out_p, tuple(final), summary(data), tuple(text))

"""Helpers shared by the ``rdp reproduce`` targets: validated numbers, CSV text, result records."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdp_exact import validate
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import csv_text  # noqa: F401  (re-exported for the targets)

if TYPE_CHECKING:
    from sae_train.train import TrainConfig


def split_options(cls: type, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat ``rdp reproduce`` options → (fields of the figure config ``cls``, training options).

    A figure config holds its training settings as one :class:`~sae_train.train.TrainConfig` (field
    ``train``); the CLI and ``quick()`` pass them flat (``steps=…, lr=…``). Keys that are neither a field of
    ``cls`` (other than ``train``) nor one of :data:`TRAIN_OPTIONS` are refused."""
    own = {f.name for f in dataclasses.fields(cls)} - {"train"}
    fig = {k: v for k, v in options.items() if k in own}
    train = {k: v for k, v in options.items() if k not in own}
    unknown = sorted(set(train) - set(TRAIN_OPTIONS))
    if unknown:
        raise InvalidArgument(f"{cls.__name__} has no option {unknown[0]!r}")
    return fig, train


#: Training options a figure takes flat (``seeds`` is a count, ``lr`` one number; the rest are
#: :class:`~sae_train.train.TrainConfig` fields of the same name).
TRAIN_OPTIONS: tuple[str, ...] = ("width", "k", "seeds", "steps", "lr", "log_every", "batch_size", "device",
                                  "zero_bias")


def with_training(base: TrainConfig, *, seeds: Any = None, lr: Any = None, **changes: Any) -> TrainConfig:
    """``base`` with flat options applied: ``seeds`` = N runs → seeds 0..N−1, ``lr`` one rate, the rest as
    :class:`~sae_train.train.TrainConfig` fields (which validates them)."""
    if seeds is not None:
        changes["seeds"] = tuple(range(validate.check_int("--seeds", seeds, min=1, max=MAX_SEEDS)))
    if lr is not None:
        changes["lr"] = (validate.check_float("--lr", lr, min=0.0, min_exclusive=True),)
    return dataclasses.replace(base, **changes)


#: Most training runs a figure accepts (``--seeds``).
MAX_SEEDS = 64


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

"""Orientation table of known proxy metrics (DESIGN §3, §7).

The §3 statistics need q oriented so that **larger q means more polysemantic**. Metrics where higher
means *more interpretable* (AutoInterp, Unlearning, RAVEL, SCR, TPP, sparse-probing top-k accuracy, MCC)
are declared ``interpretable`` and negated before the statistics (q = −x); metrics where higher means
*worse* (absorption fractions, number of split features, our own polysemanticity P) are declared
``polysemantic`` and used as they are.

Columns are matched by regular expressions on their names (case-insensitive, anchored at the end so that
``std_dev_*``/``*_std_dev`` companions, LLM baselines and partial components are **not** proxies). The
user overrides or extends the table with ``COL:interpretable|polysemantic`` (CLI ``--proxy``).

A column that differs from a known one only by its source file, ``COL@FILE`` (the values one file gave
where the files disagree, :mod:`audit.saebench`), is recognised by its base name COL. By default only COL
itself is audited when it is present; ``--proxy COL@FILE`` audits a file's alternative values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rdp_exact.errors import InvalidArgument

Orientation = Literal["interpretable", "polysemantic"]
ORIENTATIONS: tuple[Orientation, ...] = ("interpretable", "polysemantic")


@dataclass(frozen=True)
class OrientationRule:
    """One known metric: how to recognise its column and which direction is more polysemantic."""

    metric: str
    """Human name of the metric (report tables)."""
    pattern: str
    """Regular expression searched (case-insensitively) in a column name."""
    orientation: Orientation
    """``interpretable``: higher is more interpretable (negated); ``polysemantic``: higher is worse."""
    note: str = ""
    """Where the metric comes from and why it has this orientation."""

    def __post_init__(self) -> None:
        if self.orientation not in ORIENTATIONS:
            raise InvalidArgument(f"orientation must be one of {ORIENTATIONS}, got {self.orientation!r}")
        re.compile(self.pattern)

    def matches(self, column: str) -> bool:
        """True when ``column`` is this metric."""
        return re.search(self.pattern, column, flags=re.IGNORECASE) is not None


ORIENTATION_TABLE: tuple[OrientationRule, ...] = (
    OrientationRule("AutoInterp", r"(^|_)autointerp(_score)?$", "interpretable",
                    "SAEBench autointerp_score: LLM judge accuracy at predicting activations from explanations"),
    OrientationRule("Unlearning", r"(^|_)unlearning(_score)?$", "interpretable",
                    "SAEBench unlearning_score: WMDP-bio accuracy removed by clamping latents (side effects bounded)"),
    OrientationRule("RAVEL disentanglement", r"(^|_)(ravel_)?disentangle(ment)?_score$", "interpretable",
                    "SAEBench RAVEL: mean of cause and isolation"),
    OrientationRule("RAVEL cause", r"(^|_)(ravel_)?cause_score$", "interpretable",
                    "SAEBench RAVEL: the intervention changes the target attribute"),
    OrientationRule("RAVEL isolation", r"(^|_)(ravel_)?isolation_score$", "interpretable",
                    "SAEBench RAVEL: the intervention leaves the other attributes alone"),
    OrientationRule("SCR", r"(^|_)scr_(metric|dir1)_threshold_\d+$", "interpretable",
                    "SAEBench spurious-correlation removal at N ablated latents (normalised, higher is better)"),
    OrientationRule("TPP", r"(^|_)tpp_threshold_\d+_total_metric$", "interpretable",
                    "SAEBench targeted probe perturbation at N ablated latents (higher is better)"),
    OrientationRule("Absorption", r"(^|_)(mean_)?(absorption_fraction|full_absorption)(_score|_rate)?$",
                    "polysemantic",
                    "SAEBench absorption: fraction of a first-letter feature absorbed by other latents (higher is worse)"),
    OrientationRule("Feature splitting", r"(^|_)(mean_)?num_split_features$", "polysemantic",
                    "SAEBench absorption eval: mean number of latents a first-letter feature is split over"),
    OrientationRule("Sparse probing", r"(^|_)sae_top_\d+_test_accuracy$", "interpretable",
                    "SAEBench sparse probing: accuracy of a probe on the top-k latents"),
    OrientationRule("Polysemanticity P", r"^poly(_dec|_enc|_joint)?$", "polysemantic",
                    "rdp's P (DESIGN §1.3): 0 monosemantic, larger mixes more concepts"),
    OrientationRule("MCC", r"(^|_)mcc$", "interpretable",
                    "mean correlation coefficient of latents with the true concepts (sae_train)"),
)
"""The known metrics; the first matching rule decides a column's orientation."""


SPREAD_PATTERN = r"(^|_)(std|std_dev|stddev|stderr|sem|var|variance|ci|lo|hi)(_|$)"
"""Columns that describe the spread of a metric (``std_dev_*``, ``*_std``) are never proxies."""


def base_name(column: str) -> str:
    """``COL`` for ``COL@FILE`` (a column kept per source file), else the column itself."""
    return str(column).split("@", 1)[0]


def rule_for(column: str) -> OrientationRule | None:
    """The first rule of :data:`ORIENTATION_TABLE` that recognises ``column`` (by its base name), or None."""
    column = base_name(column)
    if re.search(SPREAD_PATTERN, column, flags=re.IGNORECASE):
        return None
    for rule in ORIENTATION_TABLE:
        if rule.matches(column):
            return rule
    return None


def alternates(columns: Iterable[str]) -> list[str]:
    """``COL@FILE`` columns whose base COL is also a column (not audited by default)."""
    cols = [str(c) for c in columns]
    present = set(cols)
    return [c for c in cols if base_name(c) != c and base_name(c) in present and rule_for(c) is not None]


def recognised_columns(columns: Iterable[str], exclude: Iterable[str] = ()) -> list[tuple[str, OrientationRule]]:
    """Columns the table recognises (in their order), skipping ``exclude`` (e.g. rate/distortion)."""
    skip = set(exclude)
    out = []
    for col in columns:
        if col in skip:
            continue
        rule = rule_for(str(col))
        if rule is not None:
            out.append((str(col), rule))
    return out


def parse_proxy_spec(spec: str) -> tuple[str, Orientation | None]:
    """``COL:interpretable|polysemantic`` → (COL, orientation); a bare ``COL`` → (COL, None).

    The split is at the *last* colon, so column names may contain colons.
    """
    text = spec.strip()
    if not text:
        raise InvalidArgument("empty --proxy value; write COL:interpretable or COL:polysemantic")
    col, sep, orient = text.rpartition(":")
    if not sep:
        return text, None
    orient = orient.strip().lower()
    if orient not in ORIENTATIONS:
        raise InvalidArgument(
            f"unknown orientation {orient!r} in --proxy {spec!r}; use COL:interpretable or COL:polysemantic"
        )
    if not col.strip():
        raise InvalidArgument(f"--proxy {spec!r} names no column; write COL:{orient}")
    return col.strip(), orient  # type: ignore[return-value]


def resolve_proxies(
    columns: Sequence[str], specs: Sequence[str] = (), exclude: Iterable[str] = ()
) -> list[tuple[str, Orientation, str]]:
    """(column, orientation, origin) for each proxy to audit.

    With no ``specs``, every column the table recognises (``origin`` = the metric name). Each spec is
    ``COL[:orientation]``: the column must exist; a bare COL takes its orientation from the table and is
    an error when the table does not know it; an explicit orientation overrides the table ("user").
    """
    cols = [str(c) for c in columns]
    if not specs:
        present = set(cols)
        return [(c, rule.orientation, rule.metric) for c, rule in recognised_columns(cols, exclude)
                if base_name(c) == c or base_name(c) not in present]
    out: list[tuple[str, Orientation, str]] = []
    seen: set[str] = set()
    for spec in specs:
        col, orient = parse_proxy_spec(spec)
        if col not in cols:
            raise InvalidArgument(f"--proxy column {col!r} is not in the table (columns: {', '.join(cols)})")
        if col in seen:
            raise InvalidArgument(f"--proxy column {col!r} is given twice")
        seen.add(col)
        rule = rule_for(col)
        if orient is None:
            if rule is None:
                raise InvalidArgument(
                    f"unknown orientation for proxy column {col!r}; write {col}:interpretable or {col}:polysemantic"
                )
            out.append((col, rule.orientation, rule.metric))
        else:
            origin = "user" if rule is None or rule.orientation == orient else f"user (table says {rule.orientation})"
            out.append((col, orient, origin))
    return out


def orient(values: object, orientation: Orientation) -> np.ndarray:
    """q oriented for §3: larger = more polysemantic (``interpretable`` columns are negated)."""
    if orientation not in ORIENTATIONS:
        raise InvalidArgument(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    x = np.asarray(values, dtype=float)
    return -x if orientation == "interpretable" else x.copy()

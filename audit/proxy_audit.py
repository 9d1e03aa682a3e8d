"""`rdp audit proxies` as a library: read a sweep, audit every proxy per group, write the report.

Flow (DESIGN §4): :func:`audit.saebench.read_saebench` → :func:`audit.orientation.resolve_proxies` →
:func:`audit.proxies.audit_proxy` per (group, proxy) → :class:`AuditReport` → :func:`write_report`
(``summary.csv``, ``report.md``, ``figures/*.png``). All validation happens in :func:`run_proxy_audit`,
before anything is written, so bad input never leaves partial output.

Groups: by default (``group_by="auto"``) SAEs of different models or layers are never pooled: the audit
runs once per (``model``, ``layer``) value present in the table (model names normalised, ``google/gemma-2-2b``
= ``gemma-2-2b``); a table of one model and layer is one group. Unless ``rate_col``/``distortion_col`` are
given, each group picks its own rate and distortion columns (the RAVEL SAEs of a results folder have only
a loss-recovered fidelity while the core sweeps beside them have an L2 loss). Filters (``where``,
``exclude``: pandas query expressions) select SAEs before anything else. Every known proxy that could not
be audited in some group is named in a warning, and a run where every (group, proxy) is undefined is an
error.

Missing values: a row without a finite rate or distortion is left out of every statistic; a row without
a value of one proxy is left out of that proxy's statistics (the report counts them). A (group, proxy)
with fewer than three SAEs, or without a dominated pair, gets empty V cells and a warning, never a
made-up number.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.orientation import Orientation, alternates, orient, resolve_proxies
from audit.proxies import MIN_SAES, ProxyAudit, audit_proxy
from audit.saebench import SCORE_CHOICES, SAETable, numeric_column, read_saebench, resolve_rate_distortion
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_text
from rdp_exact.validate import check_choice, check_float, check_int, check_seed, check_str

SUMMARY_COLUMNS: tuple[str, ...] = (
    "group", "proxy", "n_saes", "n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value",
    "V_strict", "p_value_rho", "orientation", "verdict", "rate_source", "distortion_source", "scores",
)
"""Columns of ``summary.csv``: the first eleven are the fixed interface, the rest are appended extras."""

ALL_GROUP = "all"
#: Columns grouped by default (those with more than one value in the table).
AUTO_GROUP_COLUMNS: tuple[str, ...] = ("model", "layer")


@dataclass(frozen=True)
class ProxyAuditConfig:
    """Options of one proxy audit (the CLI parses into this)."""

    proxies: tuple[str, ...] = ()
    """``COL[:interpretable|polysemantic]`` specs; empty = every column the orientation table knows."""
    rate_col: str | None = None
    """Column holding the rate (L0); None = detect (``l0``, ``core_l0``, …)."""
    distortion_col: str | None = None
    """Column holding the distortion (``1-COL`` for one minus a fidelity); None = detect."""
    group_by: str | None = "auto"
    """Columns (comma-separated) whose values split the SAEs into separately audited groups (e.g.
    ``architecture``); ``auto``: ``model,layer`` where the table has several; None or ``none``: all pooled."""
    where: str | None = None
    """Keep only the SAEs matching this pandas query expression (e.g. ``is_checkpoint == False``)."""
    exclude: str | None = None
    """Drop the SAEs matching this pandas query expression."""
    scores: str = "published"
    """``published`` | ``reproduced``: which scores to use when a source gives both (SAEBench-Reliability)."""
    bootstrap: int = 1000
    """Bootstrap resamples for the intervals (0 = no intervals)."""
    permutations: int = 1000
    """Permutations for the p-values (0 = no p-values)."""
    seed: int = 0
    """Seed of the resampling."""
    confidence: float = 0.95
    """Interval level; the verdict tests at α = 1 − confidence."""

    def __post_init__(self) -> None:
        for name in ("bootstrap", "permutations"):
            check_int(name, getattr(self, name), min=0)
        check_seed("seed", self.seed)
        check_float("confidence", self.confidence, min=0.0, max=1.0, min_exclusive=True, max_exclusive=True)
        check_choice("scores", self.scores, SCORE_CHOICES)
        for name in ("where", "exclude"):
            if getattr(self, name) is not None:
                check_str(f"--{name}", getattr(self, name))

    def group_columns(self, columns: list[str], frame: pd.DataFrame | None = None) -> tuple[str, ...]:
        """The grouping columns for a table with ``columns`` (``auto`` resolved on ``frame``)."""
        gb = self.group_by
        if gb is None or gb.strip().lower() in ("none", ""):
            return ()
        if gb.strip().lower() == "auto":
            if frame is None:
                return ()
            return tuple(c for c in AUTO_GROUP_COLUMNS
                         if c in frame.columns and frame[c].astype(object).where(frame[c].notna(), None).nunique(
                             dropna=False) > 1)
        cols = tuple(c.strip() for c in gb.split(",") if c.strip())
        for c in cols:
            if c not in columns:
                raise InvalidArgument(f"--group-by column {c!r} is not in the table (columns: {', '.join(columns)})")
        if len(set(cols)) != len(cols):
            raise InvalidArgument(f"--group-by {gb!r} names a column twice")
        return cols


@dataclass(frozen=True)
class ProxyResult:
    """The audit of one proxy in one group."""

    group: str
    proxy: str
    orientation: Orientation
    origin: str
    """Where the orientation came from: the metric name in the table, or ``user``."""
    n_saes: int
    """SAEs with a finite rate, distortion and proxy value in this group."""
    audit: ProxyAudit | None
    """None when fewer than three SAEs have values."""
    warnings: tuple[str, ...] = ()
    rate_source: str | None = None
    """Rate column used in this group."""
    distortion_source: str | None = None
    """Distortion column used in this group (``1-COL`` for one minus a fidelity)."""
    scores: str = "file"
    """Provenance of the proxy's values: ``published``, ``reproduced`` or ``file`` (as given)."""

    def row(self) -> dict[str, object]:
        """One ``summary.csv`` row."""
        base: dict[str, object] = {"group": self.group, "proxy": self.proxy, "n_saes": self.n_saes,
                                   "rate_source": self.rate_source, "distortion_source": self.distortion_source,
                                   "scores": self.scores}
        if self.audit is None:
            base.update({c: None for c in SUMMARY_COLUMNS if c not in base})
            base["verdict"] = "undefined"
        else:
            base.update(self.audit.to_row())
        base["orientation"] = self.orientation
        return {c: base.get(c) for c in SUMMARY_COLUMNS}


@dataclass(frozen=True)
class AuditReport:
    """Everything ``rdp audit proxies`` writes."""

    source: str
    table: SAETable
    config: ProxyAuditConfig
    results: tuple[ProxyResult, ...]
    n_usable: int
    """SAEs with a finite rate and distortion."""
    warnings: tuple[str, ...] = field(default=())
    groups: dict[str, Any] = field(default_factory=dict, repr=False)
    """Group label → :class:`GroupData` (the SAEs, rate and distortion of each group)."""
    group_columns: tuple[str, ...] = ()
    """Columns the SAEs were grouped by (empty: all pooled)."""
    n_filtered: int | None = None
    """SAEs left after ``where``/``exclude`` (None when no filter was given)."""

    @property
    def any_audited(self) -> bool:
        """Whether some (group, proxy) has a V (at least three SAEs and a dominated pair)."""
        return any(r.audit is not None and r.audit.V is not None and not math.isnan(float(r.audit.V))
                   for r in self.results)

    def summary_frame(self) -> pd.DataFrame:
        """The ``summary.csv`` table."""
        return pd.DataFrame([r.row() for r in self.results], columns=list(SUMMARY_COLUMNS))


@dataclass(frozen=True)
class GroupData:
    """The SAEs of one group and the rate and distortion used for them."""

    mask: np.ndarray
    """Rows of the (filtered) table in the group."""
    rate: np.ndarray
    """Rate of every row (nan outside the group or where unknown)."""
    distortion: np.ndarray
    """Distortion of every row."""
    rate_source: str | None
    """Column the group's rate came from (None: none found)."""
    distortion_source: str | None
    """Column the group's distortion came from (``1-COL`` for one minus a fidelity; None: none found)."""


def _label(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "(missing)"
    return str(v)


def _groups(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[str, np.ndarray]]:
    """(label, row mask) per group: ``all`` when ``columns`` is empty, else ``col=value, …``."""
    if not columns:
        return [(ALL_GROUP, np.ones(len(frame), dtype=bool))]
    labels = pd.Series([", ".join(f"{c}={_label(v)}" for c, v in zip(columns, vals, strict=True))
                        for vals in zip(*(frame[c].tolist() for c in columns), strict=True)] if len(columns) > 1
                       else [_label(v) for v in frame[columns[0]].tolist()], index=frame.index, dtype=object)
    return [(g, (labels == g).to_numpy()) for g in sorted(labels.unique(), key=_natural_key)]


def _natural_key(text: str) -> tuple[tuple[int, Any], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", str(text)) if p)


def apply_filters(frame: pd.DataFrame, where: str | None, exclude: str | None) -> pd.DataFrame:
    """Rows matching ``where`` and not matching ``exclude`` (pandas query syntax; a column name with other
    characters goes in backquotes). InvalidArgument on a bad expression or when no row is left."""
    out = frame
    for flag, expr, keep in (("--where", where, True), ("--exclude", exclude, False)):
        if expr is None:
            continue
        try:
            mask = out.eval(expr, engine="python")
        except Exception as exc:  # noqa: BLE001 - pandas raises many types for a bad expression
            msg = (str(exc).splitlines() or [type(exc).__name__])[0]
            cols = ", ".join(map(str, frame.columns[:40]))
            raise InvalidArgument(f"{flag} {expr!r} is not a valid filter ({type(exc).__name__}: {msg}); "
                                  f"columns: {cols}") from None
        if not isinstance(mask, pd.Series) or len(mask) != len(out):
            raise InvalidArgument(f"{flag} {expr!r} must be a true/false condition on each SAE")
        try:
            m = mask.astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{flag} {expr!r} must be a true/false condition on each SAE, "
                                  f"got values like {mask.iloc[0]!r}") from None
        out = out.loc[m if keep else ~m]
    if len(out) == 0:
        raise InvalidArgument(f"no SAE is left after the filters ({_filter_text(where, exclude)})")
    return out.reset_index(drop=True)


def _filter_text(where: str | None, exclude: str | None) -> str:
    parts = ([f"where {where}"] if where else []) + ([f"exclude {exclude}"] if exclude else [])
    return "; ".join(parts)


def _group_rd(table: SAETable, base: pd.DataFrame, mask: np.ndarray, config: ProxyAuditConfig) -> GroupData:
    """Rate and distortion of one group: the named columns, or the group's own best columns."""
    n = len(base)
    if config.rate_col is not None and config.distortion_col is not None:
        return GroupData(mask, table.frame["rate"].to_numpy(dtype=float), table.frame["distortion"].to_numpy(dtype=float),
                         table.rate_source, table.distortion_source)
    sub = base.loc[mask]
    r, d, rs, ds = resolve_rate_distortion(sub, config.rate_col, config.distortion_col)
    rate = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    if r is not None:
        rate[mask] = r
    if d is not None:
        dist[mask] = d
    return GroupData(mask, rate, dist, rs, ds)


def audit_table(table: SAETable, config: ProxyAuditConfig, source: str = "<table>") -> AuditReport:
    """Validate the table against ``config`` and compute every (group, proxy) audit."""
    n_filtered = None
    if config.where is not None or config.exclude is not None:
        table = replace(table, frame=apply_filters(table.frame, config.where, config.exclude))
        n_filtered = len(table.frame)
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    gcols = config.group_columns(columns, frame)
    # the table's own columns (the head's rate/distortion only where they are the table's columns)
    base = frame.drop(columns=[c for c in ("rate", "distortion")
                               if c not in (table.rate_source, table.distortion_source)])
    groups = {g: _group_rd(table, base, m, config) for g, m in _groups(frame, gcols)}
    if all(gd.rate_source is None for gd in groups.values()):
        raise InvalidArgument(f"no rate (L0) column found in {source!r}; name one with --rate-col")
    if all(gd.distortion_source is None for gd in groups.values()):
        raise InvalidArgument(f"no distortion column found in {source!r}; name one with --distortion-col")
    usable_any = np.zeros(len(frame), dtype=bool)
    for gd in groups.values():
        usable_any |= gd.mask & np.isfinite(gd.rate) & np.isfinite(gd.distortion)
    n_usable = int(usable_any.sum())
    if n_usable < MIN_SAES:
        raise InvalidArgument(
            f"need at least {MIN_SAES} SAEs with a finite rate ({table.rate_source}) and distortion "
            f"({table.distortion_source}), found {n_usable} in {source!r}"
        )
    sources = {gd.rate_source for gd in groups.values()} | {(gd.distortion_source or "").removeprefix("1-")
                                                             for gd in groups.values()}
    exclude = {"sae_id", "architecture", "rate", "distortion", *(s for s in sources if s)}
    proxies = resolve_proxies(columns, config.proxies, exclude)
    if not proxies:
        raise InvalidArgument(
            f"no known proxy column in {source!r}; name one with --proxy COL:interpretable|polysemantic"
        )
    values = {col: numeric_column(frame, col) for col, _, _ in proxies}  # raises on non-numeric columns
    notes = list(table.notes)
    if n_filtered is not None:
        notes.append(f"filters ({_filter_text(config.where, config.exclude)}) kept {n_filtered} SAE(s)")
    if n_usable < len(frame):
        notes.append(f"{len(frame) - n_usable} of {len(frame)} SAEs lack a rate or distortion and are left out")
    alt = alternates(columns) if not config.proxies else []
    if alt:
        notes.append(f"{len(alt)} per-file alternative column(s) of a known proxy are not audited by default "
                     f"(audit one with --proxy COL@FILE): {', '.join(alt)}")
    if gcols:
        notes.append(f"SAEs grouped by {', '.join(gcols)} ({len(groups)} groups); pass --group-by none to pool them")
    results: list[ProxyResult] = []
    audited: dict[str, int] = {}
    for group, gd in groups.items():
        usable = gd.mask & np.isfinite(gd.rate) & np.isfinite(gd.distortion)
        for col, orientation, origin in proxies:
            q = orient(values[col], orientation)
            m = usable & np.isfinite(q)
            n = int(m.sum())
            prov = table.provenance.get(col, "file")
            has_values = int((gd.mask & np.isfinite(q)).sum())
            if has_values == 0 and gcols:
                continue  # the proxy was not measured in this group: no row, named below if nowhere audited
            missing = int(usable.sum()) - n
            warn: list[str] = []
            if gd.rate_source is None or gd.distortion_source is None:
                warn.append("this group has no " + ("rate" if gd.rate_source is None else "distortion") + " column")
            elif missing:
                warn.append(f"{missing} SAE(s) without a value of {col} left out")
            if n < MIN_SAES:
                warn.append(f"only {n} SAE(s) with values: statistics need {MIN_SAES}, reported empty")
                results.append(ProxyResult(group, col, orientation, origin, n, None, tuple(warn),
                                           gd.rate_source, gd.distortion_source, prov))
                continue
            res = audit_proxy(gd.rate[m], gd.distortion[m], q[m], bootstrap=config.bootstrap,
                              permutations=config.permutations, seed=config.seed, confidence=config.confidence)
            results.append(ProxyResult(group, col, orientation, origin, n, res, tuple(warn) + res.warnings,
                                       gd.rate_source, gd.distortion_source, prov))
            if res.V is not None and not (isinstance(res.V, float) and math.isnan(res.V)):
                audited[col] = audited.get(col, 0) + 1
    never = [col for col, _, _ in proxies if col not in audited]
    if never:
        notes.append(f"not audited in any group (too few SAEs with a rate, a distortion and a value): "
                     f"{', '.join(never)}")
    return AuditReport(source, table, config, tuple(results), n_usable, tuple(notes), groups, gcols, n_filtered)


def run_proxy_audit(path: str | Path, config: ProxyAuditConfig) -> AuditReport:
    """Read ``path`` (table, SAEBench JSON or folder) and audit it; raises InvalidArgument on bad input and when
    no (group, proxy) at all can be audited."""
    table = read_saebench(path, rate_col=config.rate_col, distortion_col=config.distortion_col,
                          scores=config.scores)
    report = audit_table(table, config, str(path))
    if not report.any_audited:
        raise InvalidArgument(
            f"no (group, proxy) of {str(path)!r} could be audited: every group has fewer than {MIN_SAES} SAEs with a "
            "rate, a distortion and a proxy value, or no dominated pair (see --group-by, --rate-col, --distortion-col)"
        )
    return report


# ------------------------------------------------------------------------------------------ output
def _f(x: object, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{float(x):.{digits}f}"  # type: ignore[arg-type]


def _p(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.3g}"


def _ci(v: object, lo: object, hi: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return _f(v)
    return f"{_f(v)} [{_f(lo)}, {_f(hi)}]"


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def figure_names(report: AuditReport) -> dict[tuple[str, str], str]:
    """Figure file name (under ``figures/``) of each (group, proxy) that has statistics."""
    names: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for r in report.results:
        if r.audit is None:
            continue
        base = slug(r.proxy) if not report.group_columns else f"{slug(r.group)}__{slug(r.proxy)}"
        name, i = f"{base}.png", 1
        while name in used:
            i += 1
            name = f"{base}_{i}.png"
        used.add(name)
        names[(r.group, r.proxy)] = name
    return names


def markdown(report: AuditReport, figures: bool = True) -> str:
    """``report.md``: a Table-2-style table per group, settings, and every warning."""
    cfg, t = report.config, report.table
    level = f"{cfg.confidence:.0%}"
    lines = [
        "# Proxy audit (rate–distortion–polysemanticity)",
        "",
        f"- input: `{report.source}`",
        f"- SAEs: {len(t.frame)} read, {report.n_usable} with a rate and a distortion",
        f"- rate: `{t.rate_source}`; distortion: `{t.distortion_source}`",
        f"- groups: {'by ' + ', '.join(f'`{c}`' for c in report.group_columns) if report.group_columns else 'all SAEs together'}",
        f"- proxy scores: {_scores_text(report)}",
        *([f"- filters: {_filter_text(cfg.where, cfg.exclude)} → {report.n_filtered} SAEs"]
          if report.n_filtered is not None else []),
        f"- bootstrap: {cfg.bootstrap} resamples ({level} percentile intervals); permutations: "
        f"{cfg.permutations} (two-sided p of |V − ½|); seed {cfg.seed}",
        "",
        "V: share of dominated pairs (a under a tighter joint budget than b) where the proxy says a is *less* "
        "polysemantic than b, ties counted ½. 0 = faithful, 0.5 = random, 1 = inverted. ρ_RDP: Spearman "
        "correlation of tightness −(rank r + rank d) with the oriented proxy; +1 faithful, −1 inverted. "
        f"Verdict: faithful / inverted when p < {1 - cfg.confidence:.2g} (side from V − ½), random otherwise, "
        "undefined without a dominated pair or with fewer than three SAEs.",
        "",
    ]
    figs = figure_names(report) if figures else {}
    groups = list(dict.fromkeys(r.group for r in report.results))
    for g in groups:
        if report.group_columns:
            gd = report.groups.get(g)
            src = f" (rate `{gd.rate_source}`, distortion `{gd.distortion_source}`)" if gd is not None else ""
            head = g if len(report.group_columns) > 1 else f"{report.group_columns[0]} = {g}"
            lines += [f"## {head}{src}", ""]
        lines += [
            f"| proxy | orientation | n | pairs | V [{level} CI] | ρ_RDP [{level} CI] | p | verdict |",
            "|---|---|---:|---:|---|---|---:|---|",
        ]
        for r in (x for x in report.results if x.group == g):
            a = r.audit
            name = f"[{r.proxy}](figures/{figs[(g, r.proxy)]})" if (g, r.proxy) in figs else r.proxy
            if a is None:
                lines.append(f"| {name} | {r.orientation} | {r.n_saes} | – | – | – | – | undefined |")
                continue
            lines.append(
                f"| {name} | {r.orientation} | {a.n_saes} | {a.n_pairs} | {_ci(a.V, a.V_lo, a.V_hi)} | "
                f"{_ci(a.rho, a.rho_lo, a.rho_hi)} | {_p(a.p_value)} | {a.verdict} |"
            )
        lines.append("")
    warn = all_warnings(report)
    if warn:
        lines += ["## Warnings", ""] + [f"- {w}" for w in warn] + [""]
    return "\n".join(lines)


def _scores_text(report: AuditReport) -> str:
    used = sorted({r.scores for r in report.results})
    if used == ["file"] or not used:
        return "as given by the input files"
    return (f"{', '.join(used)} (per proxy in summary.csv's `scores` column; --scores {report.config.scores} "
            "chooses between published and reproduced values)")


def _json_number(v: object) -> object:
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def summary_json(report: AuditReport) -> dict[str, object]:
    """``summary.json``: the audit in the layout of a SAEBench eval output (``eval_type_id``,
    ``eval_config``, ``eval_result_metrics`` {group: {proxy: statistics}}, ``eval_result_details`` = the
    summary.csv rows), so SAEBench tooling can read rdp's results. NaN is written as null."""
    from dataclasses import asdict

    metrics: dict[str, dict[str, object]] = {}
    for r in report.results:
        row = r.row()
        metrics.setdefault(r.group, {})[r.proxy] = {k: _json_number(v) for k, v in row.items()
                                                    if k not in ("group", "proxy")}
    cfg = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(report.config).items()}
    return {
        "eval_type_id": "rdp_proxy_audit",
        "eval_config": {**cfg, "source": report.source},
        "eval_result_metrics": metrics,
        "eval_result_details": [{k: _json_number(v) for k, v in r.row().items()} for r in report.results],
        "eval_result_unstructured": {
            "rate_source": report.table.rate_source, "distortion_source": report.table.distortion_source,
            "group_columns": list(report.group_columns), "n_saes": len(report.table.frame),
            "n_usable": report.n_usable, "notes": list(report.warnings), "files": list(report.table.sources),
        },
    }


def all_warnings(report: AuditReport) -> list[str]:
    """Report-level and per-result warnings, one line each."""
    return list(report.warnings) + [
        f"{r.group}/{r.proxy}: {w}" if report.group_columns else f"{r.proxy}: {w}"
        for r in report.results for w in r.warnings
    ]


def write_report(report: AuditReport, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    """Write ``summary.csv``, ``report.md`` and (optionally) ``figures/*.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write_text(out / "summary.csv", report.summary_frame().to_csv(index=False)),
        atomic_write_text(out / "summary.json", json.dumps(summary_json(report), indent=1, allow_nan=False) + "\n"),
        atomic_write_text(out / "report.md", markdown(report, figures)),
    ]
    if figures:
        from audit.plots import plot_proxy
        from audit.proxies import tightness

        frame = report.table.frame
        (out / "figures").mkdir(exist_ok=True)
        for (g, proxy), name in figure_names(report).items():
            r = next(x for x in report.results if x.group == g and x.proxy == proxy)
            gd = report.groups[g]
            rate, dist = gd.rate, gd.distortion
            vals = numeric_column(frame, proxy)
            m = gd.mask & np.isfinite(rate) & np.isfinite(dist) & np.isfinite(vals)
            a = r.audit
            if a is None:
                continue
            title = f"{proxy}" + (f" — {g}" if report.group_columns else "")
            title += f"\nV = {_ci(a.V, a.V_lo, a.V_hi)}, ρ_RDP = {_ci(a.rho, a.rho_lo, a.rho_hi)}, {a.verdict}"
            written.append(plot_proxy(
                rate[m], dist[m], vals[m], tightness(rate[m], dist[m]), out / "figures" / name,
                proxy=proxy, orientation=r.orientation, rate_label=f"rate ({gd.rate_source})",
                distortion_label=f"distortion ({gd.distortion_source})", title=title,
            ))
    return written

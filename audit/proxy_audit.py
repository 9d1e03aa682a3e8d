"""`rdp audit proxies` as a library: read a sweep, audit every proxy per group, write the report.

Flow (DESIGN §4): :func:`audit.saebench.read_saebench` → :func:`audit.orientation.resolve_proxies` →
:func:`audit.proxies.audit_proxy` per (group, proxy) → :class:`AuditReport` → :func:`write_report`
(``summary.csv``, ``report.md``, ``figures/*.png``). All validation happens in :func:`run_proxy_audit`,
before anything is written, so bad input never leaves partial output.

Missing values: a row without a finite rate or distortion is left out of every statistic; a row without
a value of one proxy is left out of that proxy's statistics (the report counts them). A (group, proxy)
with fewer than three SAEs, or without a dominated pair, gets empty V cells and a warning, never a
made-up number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audit.orientation import Orientation, orient, resolve_proxies
from audit.proxies import MIN_SAES, ProxyAudit, audit_proxy
from audit.saebench import SAETable, numeric_column, read_saebench
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_text

SUMMARY_COLUMNS: tuple[str, ...] = (
    "group", "proxy", "n_saes", "n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value",
    "V_strict", "p_value_rho", "orientation", "verdict",
)
"""Columns of ``summary.csv``: the first eleven are the fixed interface, the rest are appended extras."""

ALL_GROUP = "all"


@dataclass(frozen=True)
class ProxyAuditConfig:
    """Options of one proxy audit (the CLI parses into this)."""

    proxies: tuple[str, ...] = ()
    """``COL[:interpretable|polysemantic]`` specs; empty = every column the orientation table knows."""
    rate_col: str | None = None
    """Column holding the rate (L0); None = detect (``l0``, ``core_l0``, …)."""
    distortion_col: str | None = None
    """Column holding the distortion (``1-COL`` for one minus a fidelity); None = detect."""
    group_by: str | None = None
    """Column whose values split the SAEs into separately audited groups (e.g. ``architecture``)."""
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
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidArgument(f"{name} must be an integer ≥ 0, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument(f"seed must be an integer ≥ 0, got {self.seed!r}")
        if not (0.0 < float(self.confidence) < 1.0):
            raise InvalidArgument(f"confidence must lie strictly between 0 and 1, got {self.confidence!r}")


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

    def row(self) -> dict[str, object]:
        """One ``summary.csv`` row."""
        base: dict[str, object] = {"group": self.group, "proxy": self.proxy, "n_saes": self.n_saes}
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

    def summary_frame(self) -> pd.DataFrame:
        """The ``summary.csv`` table."""
        return pd.DataFrame([r.row() for r in self.results], columns=list(SUMMARY_COLUMNS))


def _groups(frame: pd.DataFrame, group_by: str | None) -> list[tuple[str, np.ndarray]]:
    if group_by is None:
        return [(ALL_GROUP, np.ones(len(frame), dtype=bool))]
    labels = frame[group_by].map(lambda v: "(missing)" if v is None or (isinstance(v, float) and math.isnan(v))
                                 else str(v))
    return [(g, (labels == g).to_numpy()) for g in sorted(labels.unique())]


def audit_table(table: SAETable, config: ProxyAuditConfig, source: str = "<table>") -> AuditReport:
    """Validate the table against ``config`` and compute every (group, proxy) audit."""
    frame = table.frame
    if table.rate_source is None:
        raise InvalidArgument(f"no rate (L0) column found in {source!r}; name one with --rate-col")
    if table.distortion_source is None:
        raise InvalidArgument(f"no distortion column found in {source!r}; name one with --distortion-col")
    if config.group_by is not None and config.group_by not in frame.columns:
        raise InvalidArgument(
            f"--group-by column {config.group_by!r} is not in the table (columns: {', '.join(map(str, frame.columns))})"
        )
    rate = frame["rate"].to_numpy(dtype=float)
    dist = frame["distortion"].to_numpy(dtype=float)
    usable = np.isfinite(rate) & np.isfinite(dist)
    n_usable = int(usable.sum())
    if n_usable < MIN_SAES:
        raise InvalidArgument(
            f"need at least {MIN_SAES} SAEs with a finite rate ({table.rate_source}) and distortion "
            f"({table.distortion_source}), found {n_usable} in {source!r}"
        )
    exclude = {"sae_id", "architecture", "rate", "distortion", table.rate_source or "",
               (table.distortion_source or "").removeprefix("1-")}
    proxies = resolve_proxies([str(c) for c in frame.columns], config.proxies, exclude)
    if not proxies:
        raise InvalidArgument(
            f"no known proxy column in {source!r}; name one with --proxy COL:interpretable|polysemantic"
        )
    values = {col: numeric_column(frame, col) for col, _, _ in proxies}  # raises on non-numeric columns
    notes = list(table.notes)
    if n_usable < len(frame):
        notes.append(f"{len(frame) - n_usable} of {len(frame)} SAEs lack a rate or distortion and are left out")
    results: list[ProxyResult] = []
    for group, gmask in _groups(frame, config.group_by):
        for col, orientation, origin in proxies:
            q = orient(values[col], orientation)
            m = gmask & usable & np.isfinite(q)
            n = int(m.sum())
            missing = int((gmask & usable).sum()) - n
            warn: list[str] = []
            if missing:
                warn.append(f"{missing} SAE(s) without a value of {col} left out")
            if n < MIN_SAES:
                warn.append(f"only {n} SAE(s) with values: statistics need {MIN_SAES}, reported empty")
                results.append(ProxyResult(group, col, orientation, origin, n, None, tuple(warn)))
                continue
            res = audit_proxy(rate[m], dist[m], q[m], bootstrap=config.bootstrap,
                              permutations=config.permutations, seed=config.seed, confidence=config.confidence)
            results.append(ProxyResult(group, col, orientation, origin, n, res, tuple(warn) + res.warnings))
    return AuditReport(source, table, config, tuple(results), n_usable, tuple(notes))


def run_proxy_audit(path: str | Path, config: ProxyAuditConfig) -> AuditReport:
    """Read ``path`` (table, SAEBench JSON or folder) and audit it; raises InvalidArgument on bad input."""
    table = read_saebench(path, rate_col=config.rate_col, distortion_col=config.distortion_col)
    return audit_table(table, config, str(path))


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
        base = slug(r.proxy) if report.config.group_by is None else f"{slug(r.group)}__{slug(r.proxy)}"
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
        f"- groups: {'by `' + cfg.group_by + '`' if cfg.group_by else 'all SAEs together'}",
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
        if cfg.group_by is not None:
            lines += [f"## {cfg.group_by} = {g}", ""]
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


def all_warnings(report: AuditReport) -> list[str]:
    """Report-level and per-result warnings, one line each."""
    return list(report.warnings) + [
        f"{r.group}/{r.proxy}: {w}" if report.config.group_by else f"{r.proxy}: {w}"
        for r in report.results for w in r.warnings
    ]


def write_report(report: AuditReport, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    """Write ``summary.csv``, ``report.md`` and (optionally) ``figures/*.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write_text(out / "summary.csv", report.summary_frame().to_csv(index=False)),
        atomic_write_text(out / "report.md", markdown(report, figures)),
    ]
    if figures:
        from audit.plots import plot_proxy
        from audit.proxies import tightness

        frame = report.table.frame
        rate = frame["rate"].to_numpy(dtype=float)
        dist = frame["distortion"].to_numpy(dtype=float)
        groups = dict(_groups(frame, report.config.group_by))
        (out / "figures").mkdir(exist_ok=True)
        for (g, proxy), name in figure_names(report).items():
            r = next(x for x in report.results if x.group == g and x.proxy == proxy)
            vals = numeric_column(frame, proxy)
            m = groups[g] & np.isfinite(rate) & np.isfinite(dist) & np.isfinite(vals)
            a = r.audit
            assert a is not None
            title = f"{proxy}" + (f" — {report.config.group_by} = {g}" if report.config.group_by else "")
            title += f"\nV = {_ci(a.V, a.V_lo, a.V_hi)}, ρ_RDP = {_ci(a.rho, a.rho_lo, a.rho_hi)}, {a.verdict}"
            written.append(plot_proxy(
                rate[m], dist[m], vals[m], tightness(rate[m], dist[m]), out / "figures" / name,
                proxy=proxy, orientation=r.orientation, rate_label=f"rate ({report.table.rate_source})",
                distortion_label=f"distortion ({report.table.distortion_source})", title=title,
            ))
    return written

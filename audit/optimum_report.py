"""report.md of ``rdp audit optimum``: the tables and how to read them (DESIGN §7)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.optimum import (
    AUDIT_COLUMNS,
    AUDIT_CSV,
    FIGURES_DIR,
    LATENT_COLUMNS,
    LATENTS_CSV,
    OPTIMA_JSON,
    REPORT_MD,
    OptimumAudit,
    OptimumAuditConfig,
    OptimumRef,
    ProgressFn,
    audit_optimum,
)
from rdp_exact.pmf import format_event


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:.{digits}g}"
    return str(v)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return out


def report_markdown(audit: Any, figures: Mapping[str, Sequence[str]] | None = None) -> str:
    """The Markdown report of an :class:`audit.optimum.OptimumAudit`."""
    figures = figures or {}
    cfg = audit.config
    L: list[str] = [
        "# Trained SAEs against the exact optimum",
        "",
        f"Runs folder: `{audit.runs_dir}` — {len(audit.saes)} SAE(s), {len(audit.optima)} distinct (π, m, k). "
        f"Solver `{cfg.solver}`" + (f", time limit {cfg.time_limit:g} s per solve" if cfg.time_limit else "")
        + f"; snapping threshold cos > {cfg.cos_threshold:g}, encoder sign threshold |cos| ≥ {cfg.enc_threshold:g}.",
        "",
        "Every number is exact: R and D of the trained SAEs are recomputed from the saved weights by enumerating",
        "the support of the pmf (constant magnitudes, no noise); the optimum is solved once per (π, m, k).",
        "",
        "## The exact optimum of each (π, m, k)",
        "",
    ]
    rows = []
    for o in audit.optima:
        tax = o.tax_value
        rows.append([optimum_key(o), o.width, o.k, o.d_star_k, o.rate_opt, o.poly_opt, o.atoms_text() or "–",
                     o.d_min, "none (optimum can be monosemantic)" if tax is None else tax,
                     f"{o.status} ({o.solution.solver})"])
    L += _table(["group", "m", "k", "D*_k", "R_opt", "P_opt", "optimal atoms", "D_min", "rate tax", "status"], rows)
    if not audit.all_exact:
        L += ["", "**Some optimum is not proven** (status other than `optimal`): its D*_k is the best SAE found, an",
              "upper bound on the true optimum, so gaps against it are upper bounds too (the CLI exits with code 4)."]
    L += ["", "## Each trained SAE against the optimum of its own class", ""]
    L += [
        "A trained SAE has real decoder rows, nonnegative real codes and, unless its biases were fixed at 0, a",
        "decoder bias: it lives in the class `real-codes` (or `real-codes+bias`) of DESIGN §1.2b, with the cap k",
        "it obeys, not in the binary class of D*_k. This table measures it against the optimum and the",
        "monosemantic floor of that class; no SAE can go below a class's proven bound.",
        "",
    ]
    crow = []
    for s in audit.saes:
        cr = s.class_ref
        if cr is None:
            crow.append([s.sae_dir, "–", None, s.metrics.distortion, None, None, None, None, "not placed (weights not finite)"])
            continue
        st = cr.solution.status.value + ("" if cr.exact else f", bound {_f(cr.bound)}")
        fl = cr.floor
        crow.append([s.sae_dir, cr.placement.label, cr.placement.k, s.metrics.distortion, cr.d_star, s.gap_class,
                     cr.d_min if fl.exact else f"{_f(cr.d_min)} (bound {_f(fl.bound)})",
                     "yes" if fl.below_binary else "no", f"{st} ({cr.solution.method})"])
    L += _table(["SAE", "class", "k", "D", "D*(class)", "D − D*(class)", "D_min(class)", "floor below binary D_min",
                 "status"], crow)
    below = audit.below_own_class()
    if below:
        L += ["", f"**{len(below)} SAE(s) fall below the proven bound of their own class: this is a bug; please "
              "report it with the run folder.**"]
    L += ["", "## Trained SAEs (binary optimum D*_k as a reference column)", ""]
    rows = []
    for s in audit.saes:
        sn = s.snapped
        be = None if sn is None else sn.best_eval
        c = sn.counts() if sn is not None else {}
        struct = ", ".join(f"{v} {k}" for k, v in c.items() if v) if c else "–"
        rows.append([s.sae_dir, s.arch, s.seed, s.k_audit, s.metrics.rate, s.metrics.distortion, s.metrics.poly_dec,
                     s.optimum.d_star_k, s.gap_d, s.gap_d_rel, s.gap_r, s.beats_binary_optimum,
                     None if be is None else be.distortion, None if sn is None else sn.observed_eval.distortion,
                     struct])
    L += _table(["SAE", "arch", "seed", "k", "R", "D", "P_dec", "D*_k", "D − D*_k", "rel. gap", "R − R_opt",
                 "D < D*_k", "snapped D (best)", "snapped D (observed)", "latents"], rows)

    beat = audit.beating()
    L += ["", "## The binary reference", ""]
    L += [
        "D*_k is the optimum of the binary class (0/1 atoms, unit codes, no bias: A2 and A4), which does not",
        "contain trained SAEs. " + (f"{len(beat)} of {len(audit.saes)} trained SAE(s) have D below D*_k; that is the "
                                    "value of real weights, codes and biases on this pmf, not a comparison with "
                                    "their own optimum (see the class table above)." if beat else
                                    "No trained SAE has D < D*_k on this pmf."),
    ]
    for s in beat:
        names = s.optimum.pmf.names()
        bias = "" if s.snapped is None or not s.snapped.bias_concepts else (
            f"; its decoder bias b_dec writes {format_event(s.snapped.bias_concepts, names)} on every input")
        L.append(f"- `{s.sae_dir}`: D = {_f(s.metrics.distortion)}, D*_k = {_f(s.optimum.d_star_k)} (binary), "
                 f"D*(class) = {_f(s.class_ref.d_star) if s.class_ref is not None else '–'}{bias}.")

    L += ["", "## Latent structure of each SAE (snapped)", ""]
    for s in audit.saes:
        if s.snapped is None:
            L.append(f"- `{s.sae_dir}`: weights are not finite (diverged), not snapped.")
            continue
        names = s.optimum.pmf.names()
        lats = "; ".join(f"z{lat.index}: {lat.describe(names)}" for lat in s.snapped.latents)
        bias = f" — b_dec carries {format_event(s.snapped.bias_concepts, names)}" if s.snapped.bias_concepts else ""
        L.append(f"- `{s.sae_dir}`: {lats}{bias}")

    if figures:
        L += ["", "## Figures", ""]
        for p in figures.get("rd", []):
            L.append(f"![R–D]({p})")
        if figures.get("atoms"):
            L += ["", "Per-SAE concepts × latents pictures: " + ", ".join(f"[{p.split('/')[-1]}]({p})"
                                                                         for p in figures["atoms"])]
    L += ["", _HOW_TO_READ]
    return "\n".join(L) + "\n"


_HOW_TO_READ = """## How to read this report

- **D*_k** is the least distortion any combinatorial SAE of width m can reach when at most k latents fire per
  input (free encoder, integer coefficients; DESIGN §1.4). **R_opt** and **P_opt** are the rate and the
  polysemanticity (P_dec) of the canonical optimal SAE, whose atoms are listed.
- **D_min** is the least distortion of a *monosemantic* SAE of the same m and k (C-T5). When D*_k < D_min the
  optimum must be polysemantic, and the **rate tax** (C-T4) is how much more rate any monosemantic SAE of
  width m needs to reach D*_k (∞: none can).
- **class**, **D*(class)**, **D − D*(class)** and **D_min(class)**: the smallest class of DESIGN §1.2b that
  contains the trained SAE (`real-codes`, `+bias` when b_dec ≠ 0; k = the SAE's k for TopK, else the most latents
  it fires on one event), that class's optimum, the training gap against it (never below −1e−9 against a proven
  bound), and its monosemantic floor (below the binary D_min when a bias is allowed). A status `limit` means the
  class optimum was not proven within `class_time_limit`; its bound is still a valid floor.
- **D − D*_k** (and its relative form) is the distance to the *binary* optimum, a reference only: a negative
  value says what real weights, codes and biases buy on this pmf. **R − R_opt** compares the rates.
- **snapped D (best)** evaluates the trained decoder snapped to 0/1 atoms (concepts with cosine above the
  threshold) with optimal inference; **snapped D (observed)** uses the firing pattern the trained encoder
  actually produces. Far above the trained D means the trained SAE relies on real-valued weights or
  biases that the snapping drops; equal to D*_k means training found the optimal atoms.
- **latents**: each latent's kind — `dead` (fires on no support event), `unaligned` (fires, but no concept
  has cosine above the threshold), `splitting` (its atom is a proper subset or superset of another live
  latent's atom, e.g. {a,b} and {a}), `monosemantic` (one concept), `hedged` (≥ 2 concepts and it fires on
  an event holding two of them), `mixed` (≥ 2 concepts never written together) — and the independent flag
  `absorbing` (fires on a only when a co-occurring b is absent, explained by a negative encoder weight on b
  or by another latent writing a on those events). Exact rules: `audit/snap.py`.
- **Figures**: `figures/rd_*.png` puts the trained SAEs (circles, coloured by P_dec) and their snapped
  versions (crosses) over the exact staircases of their (π, m, k): the monosemantic staircase (P = 0), the
  unrestricted optima D*(r) of a few rate budgets (squares, coloured by their P), D*_k (star) and D_min
  (dotted). `figures/atoms/*.png` shows, per SAE, the trained decoder's cosine table, the snapped atoms with
  each latent's kind, and the optimal SAE's atoms.
- Files: `audit.csv` (one row per SAE), `latents.csv` (one row per latent), `optima.json` (each optimum with
  its SAE, staircase and D*(r) points).
"""


__all__ = ["report_markdown"]


# ------------------------------------------------------------------------------------------ output
def optimum_key(o: OptimumRef) -> str:
    """Short label of a (π, m, k) group, e.g. ``400acc486f84_m2_k1``."""
    return f"{o.pmf.sha256()[:12]}_m{o.width}_k{o.k}"


def _optimum_json(o: OptimumRef) -> dict[str, Any]:
    d = o.solution.to_json_dict()
    d.pop("code", None)
    return {
        "key": optimum_key(o), "pmf_sha256": o.pmf.sha256(), "width": o.width, "k": o.k,
        "d_star_k": o.d_star_k, "rate_opt": o.rate_opt, "poly_opt": o.poly_opt, "status": o.status,
        "exact": o.exact, "atoms": d.get("atoms"), "d_min": o.d_min, "d_min_source": o.d_min_source,
        "rate_tax": None if o.tax is None else o.tax.to_dict(),
        "staircase": None if o.staircase is None else o.staircase.to_list(),
        "rd_points": [{"max_rate": r, "rate": s.rate, "distortion": s.distortion, "poly": s.poly,
                       "status": s.status.value} for r, s in o.rd_points],
        "solution": d,
    }


def write_optimum_audit(audit: OptimumAudit, folder: str | Path) -> list[Path]:
    """Write audit.csv, latents.csv, optima.json, report.md and figures/ into ``folder`` (existing; the
    caller stages it). Returns the files written."""
    from audit.optimum_plots import plot_atoms, plot_rd
    from rdp_exact.io_utils import atomic_write_json, atomic_write_text, csv_text

    folder = Path(folder)
    written = [
        atomic_write_text(folder / AUDIT_CSV, csv_text(AUDIT_COLUMNS, audit.rows())),
        atomic_write_text(folder / LATENTS_CSV,
                          csv_text(LATENT_COLUMNS, [r for s in audit.saes for r in s.latent_rows()])),
        atomic_write_json(folder / OPTIMA_JSON, [_optimum_json(o) for o in audit.optima]),
    ]
    figs: dict[str, list[str]] = {}
    if audit.config.figures:
        fdir = folder / FIGURES_DIR
        fdir.mkdir(parents=True, exist_ok=True)
        for o in audit.optima:
            members = [s for s in audit.saes if s.optimum is o]
            p = plot_rd(o, members, fdir / f"rd_{optimum_key(o)}.png")
            written.append(p)
            figs.setdefault("rd", []).append(p.relative_to(folder).as_posix())
        adir = fdir / "atoms"
        for s in audit.saes[: audit.config.max_atom_figures]:
            if s.snapped is None:
                continue
            adir.mkdir(parents=True, exist_ok=True)
            p = plot_atoms(s, adir / (s.sae_dir.replace("/", "__") + ".png"), audit.config.cos_threshold)
            written.append(p)
            figs.setdefault("atoms", []).append(p.relative_to(folder).as_posix())
    written.append(atomic_write_text(folder / REPORT_MD, report_markdown(audit, figs)))
    return written


def run_optimum_audit(runs_dir: str | Path, out: str | Path, config: OptimumAuditConfig | None = None,
                      progress: ProgressFn | None = None) -> OptimumAudit:
    """Check ``out`` first, audit, then write everything through a staging folder (all or nothing)."""
    from rdp_exact.io_utils import check_writable_dir, staged_dir

    check_writable_dir(out)
    audit = audit_optimum(runs_dir, config, progress)
    with staged_dir(out) as tmp:
        write_optimum_audit(audit, tmp)
    return audit

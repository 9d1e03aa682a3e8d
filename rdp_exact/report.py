"""Terminal rendering of pmfs and solutions (rich tables). Library code returns data; this prints it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF, format_event
from rdp_exact.problem import Solution, Status

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def console() -> Console:
    """A console that never wraps tables mid-cell on narrow CI terminals."""
    return Console(width=max(100, Console().width), highlight=False)


def check_plot_suffix(path: Path) -> None:
    """Refuse plot paths matplotlib cannot write."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidArgument(f"plot file {str(path)!r} must end in {', '.join(PLOT_SUFFIXES)}")


def fmt(x: float | None, digits: int = 6) -> str:
    """Compact number: ``-`` for None, ``∞`` for infinity."""
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{x:.{digits}g}"


def print_builtins(builtins: Mapping[str, tuple[str, Callable[[], ConceptPMF]]]) -> None:
    """``rdp pmf --list``."""
    t = Table(title="built-in pmfs")
    t.add_column("name")
    t.add_column("n", justify="right")
    t.add_column("N", justify="right")
    t.add_column("description")
    for name, (desc, make) in builtins.items():
        p = make()
        t.add_row(name, str(p.n), str(p.support_size), desc)
    console().print(t)


def _matrix_table(title: str, names: tuple[str, ...], M: np.ndarray) -> Table:
    t = Table(title=title)
    t.add_column("")
    for nm in names:
        t.add_column(nm, justify="right")
    for i, nm in enumerate(names):
        t.add_row(nm, *[fmt(float(v), 3) for v in M[i]])
    return t


def print_pmf(pmf: ConceptPMF, max_events: int = 64) -> None:
    """``rdp pmf PMF``: events, marginals, co-occurrence, correlation, E|S|."""
    c = console()
    names = pmf.names()
    c.print(f"[bold]concept pmf[/bold]: n = {pmf.n}, N = {pmf.support_size} events, "
            f"E|S| = {fmt(pmf.expected_sparsity())}, sha256 {pmf.sha256()[:12]}")
    t = Table(title="events")
    t.add_column("event")
    t.add_column("|S|", justify="right")
    t.add_column("π(S)", justify="right")
    order = np.argsort(-pmf.probs, kind="stable")
    for s in order[:max_events]:
        e = pmf.events[s]
        t.add_row(format_event(e, pmf.concept_names), str(e.bit_count()), fmt(float(pmf.probs[s])))
    c.print(t)
    if pmf.support_size > max_events:
        c.print(f"… {pmf.support_size - max_events} less probable events not shown")
    mt = Table(title="marginals p_i = P(i ∈ S)")
    for nm in names:
        mt.add_column(nm, justify="right")
    mt.add_row(*[fmt(float(v), 4) for v in pmf.marginals()])
    c.print(mt)
    if pmf.n <= 16:
        c.print(_matrix_table("pair co-occurrence P(i,j ∈ S)", names, pmf.cooccurrence()))
        c.print(_matrix_table("correlation of indicators (nan: constant concept)", names, pmf.correlation()))


def atoms_table(sol: Solution) -> Table:
    """Concepts × latents table of decoder atoms (■ = concept in the atom) with encoder rows if any."""
    assert sol.sae is not None and sol.evaluation is not None
    sae = sol.sae
    pmf = sol.problem.pmf
    names = pmf.names()
    t = Table(title="decoder atoms (concepts × latents)")
    t.add_column("concept")
    for j in range(sae.width):
        live = sol.evaluation.live[j]
        t.add_column(f"z{j}" + ("" if live else " (dead)"), justify="center")
    A = sae.atom_matrix()
    for i, nm in enumerate(names):
        t.add_row(nm, *["■" if A[j, i] else "·" for j in range(sae.width)])
    if sae.encoder is not None:
        t.add_row("", *["" for _ in range(sae.width)])
        sym = {1: "+", -1: "−", 0: "·"}
        for i, nm in enumerate(names):
            t.add_row(f"enc {nm}", *[sym[u.weights[i]] for u in sae.encoder])
        t.add_row("θ", *[str(u.threshold) for u in sae.encoder])
    return t


def code_table(sol: Solution, max_events: int = 32) -> Table:
    """Per-event code: active latents, reconstruction and error."""
    assert sol.sae is not None and sol.evaluation is not None
    pmf = sol.problem.pmf
    ev = sol.evaluation
    t = Table(title="code (most probable events)")
    for col in ("event", "π(S)", "active", "reconstruction c(S)", "error"):
        t.add_column(col, justify="right" if col in ("π(S)", "error") else "left")
    order = np.argsort(-pmf.probs, kind="stable")[:max_events]
    for s in order:
        coeffs = ev.coefficients[s]
        recon = "+".join(
            (f"{int(c)}·" if c > 1 else "") + pmf.names()[i] for i, c in enumerate(coeffs) if c
        ) or "0"
        t.add_row(
            format_event(pmf.events[s], pmf.concept_names),
            fmt(float(pmf.probs[s]), 4),
            ",".join(f"z{j}" for j in ev.active[s]) or "-",
            recon,
            fmt(float(ev.errors[s]), 4),
        )
    return t


def solution_summary(sol: Solution) -> dict[str, Any]:
    """The numbers of the one-line summary."""
    return {
        "status": sol.status.value,
        "exact": sol.is_exact,
        "R": sol.rate,
        "D": sol.distortion,
        "P": sol.poly,
        "gap": sol.gap,
        "time": sol.wall_time_s,
    }


def proof_line(status: Status, exact: bool, gap: float | None, method: str, version: str | None,
               seconds: float) -> str:
    """The first line of every ``rdp solve`` answer (rich markup): the status, whether it is proven, the method.
    ``OPTIMAL proven optimal (gap 0)`` is the only wording of an exact answer."""
    colour = {Status.OPTIMAL: "green", Status.INFEASIBLE: "yellow"}.get(status, "red")
    proof = "proven optimal (gap 0)" if exact else {
        Status.INFEASIBLE: "proven infeasible",
        Status.LIMIT: f"limit reached, NOT proven (gap {fmt(gap, 3)})",
        Status.FEASIBLE: f"feasible, NOT proven (gap {fmt(gap, 3)})",
        Status.OPTIMAL: f"optimal within gap {fmt(gap, 3)}",
    }[status]
    ver = f" {version}" if version else ""
    return f"[bold]{status.value.upper()}[/bold] [{colour}]{proof}[/{colour}] — {method}{ver}, {seconds:.3g} s"


def print_solution(sol: Solution, *, quiet: bool = False) -> None:
    """``rdp solve`` terminal output."""
    c = console()
    pr = sol.problem
    head = (
        f"minimise {pr.minimize} | n = {pr.pmf.n}, N = {pr.pmf.support_size}, m = {pr.width}, k = {pr.k}, "
        f"{pr.encoder} encoder, {pr.coefficients} coefficients"
    )
    budgets = [f"{nm} ≤ {v:g}" for nm, v in (("R", pr.max_rate), ("D", pr.max_distortion), ("P", pr.max_poly)) if v is not None]
    if budgets:
        head += " | " + ", ".join(budgets)
    c.print(proof_line(sol.status, sol.is_exact, sol.gap, sol.solver, sol.solver_version, sol.wall_time_s))
    for note in sol.info.get("notes", ()):
        c.print(f"note: {note}", markup=False)
    if quiet:
        if sol.evaluation is not None:
            c.print(f"R = {fmt(sol.rate)}  D = {fmt(sol.distortion)}  P = {fmt(sol.poly)}")
        return
    c.print(head)
    if sol.sae is None or sol.evaluation is None:
        return
    ev = sol.evaluation
    c.print(atoms_table(sol))
    c.print(code_table(sol))
    metrics = Table(title="exact metrics")
    for col in ("rate R", "distortion D", "P_dec", "P_enc", "P_joint", "objective", "bound", "gap"):
        metrics.add_column(col, justify="right")
    metrics.add_row(fmt(ev.rate), fmt(ev.distortion), fmt(ev.poly_dec), fmt(ev.poly_enc), fmt(ev.poly_joint),
                    fmt(sol.objective), fmt(sol.bound), fmt(sol.gap, 3))
    c.print(metrics)

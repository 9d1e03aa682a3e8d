"""C-D3 (proxy criterion): check, strategy, mutants and scope."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import FREE, STATS, Claim, Classes, Mutant, present, violation
from proofs_check.strategies import ALL_CLASSES, Instance, distortion_upper, instances, rate_upper
from rdp_exact.problem import Status


@st.composite
def _d3_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=classes, max_n=3, max_width=2, max_support=8))
    gr = draw(st.integers(2, 4), label="rate grid")
    gd = draw(st.integers(2, 4), label="distortion grid")
    return inst.with_(minimize="poly", extra={"grid_r": gr, "grid_d": gd})


#: Placements of a sweep point: ``grid`` = at its budget, every cell of the product grid, infeasible
#: cells as q = 2 (above any P, i.e. "∞"); ``budget`` = at its budget, feasible cells only;
#: ``actual`` = at the optimal SAE's (R, D), feasible cells only.
PLACEMENTS = ("grid", "budget", "actual")
#: Placements for which ρ_RDP ≥ 0 is claimed. Proven only for ``grid`` (Harris/FKG: t and q are both
#: coordinatewise non-increasing on a product grid); for ``budget`` and ``actual`` the falsifier found
#: no counterexample (see falsifier.md), so they are checked too.
RHO_PLACEMENTS = PLACEMENTS
INFEASIBLE_Q = 2.0


def d3_sweep(inst: Instance) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """Exact P*(r, δ) on the product grid of ``grid_r`` × ``grid_d`` budgets in [0, R_max] × [0, E|S|],
    as (rates, distortions, q) per placement."""
    gr, gd = inst.extra["grid_r"], inst.extra["grid_d"]
    r_top, d_top = rate_upper(inst), distortion_upper(inst)
    out: dict[str, tuple[list[float], list[float], list[float]]] = {p: ([], [], []) for p in PLACEMENTS}
    for i in range(gr):
        for j in range(gd):
            r, d = r_top * i / (gr - 1), d_top * j / (gd - 1)
            sol = ref.optimum(inst.problem(max_rate=r, max_distortion=d))
            feasible = sol.status is not Status.INFEASIBLE
            q = present(sol.poly, "P") if feasible else INFEASIBLE_Q
            for name, (x, y) in (("grid", (r, d)), ("budget", (r, d)),
                                 ("actual", (sol.rate, sol.distortion) if feasible else (None, None))):
                if name != "grid" and not feasible:
                    continue
                out[name][0].append(float(x))  # type: ignore[arg-type]
                out[name][1].append(float(y))  # type: ignore[arg-type]
                out[name][2].append(q)
    return out


def _d3_stats(inst: Instance, rho_placements: tuple[str, ...], strict: bool, *, rho_floor: float | None = None,
              record: bool = False) -> None:
    """V (or V_strict) = 0 at every placement; at ``rho_placements`` ρ_RDP ≥ 0, and ρ_RDP > 0 whenever
    P* is not constant over the sweep (ρ undefined only when q or the tightness is constant);
    with ``rho_floor``, ρ_RDP ≥ rho_floor wherever defined (a mutant)."""
    from audit import proxies

    for name, (r, d, q) in d3_sweep(inst).items():
        if len(q) < proxies.MIN_SAES:
            continue
        v = proxies.violation_rate_strict(r, d, q) if strict else proxies.violation_rate(r, d, q)
        label = "V_strict" if strict else "V"
        pts = list(zip(r, d, q, strict=True))
        violation(v is None or v == 0.0, f"{label} = {v!r} at placement '{name}' (points {pts})")
        rho = proxies.rho_rdp(r, d, q)
        if record and not math.isnan(rho):
            lo = math.floor(rho * 10) / 10
            STATS.setdefault("C-D3", Counter())[f"ρ_RDP at '{name}' in [{lo:.1f}, {lo + 0.1:.1f})"] += 1
        if name in rho_placements:
            violation(math.isnan(rho) or rho >= -1e-12, f"ρ_RDP = {rho!r} < 0 at placement '{name}' (points {pts})")
            violation(math.isnan(rho) or len(set(q)) == 1 or rho > 1e-9,
                      f"ρ_RDP = {rho!r} is not > 0 although P* varies, at placement '{name}' (points {pts})")
        if rho_floor is not None:
            violation(math.isnan(rho) or rho >= rho_floor - 1e-12,
                      f"ρ_RDP = {rho!r} < {rho_floor} at placement '{name}' (points {pts})")


def check_d3(inst: Instance) -> None:
    """C-D3: on a sweep of exact P* optima, V_strict = 0 at every placement, and ρ_RDP ≥ 0, strictly
    positive whenever P* varies over the sweep."""
    _d3_stats(inst, RHO_PLACEMENTS, strict=True, record=True)


def check_d3_mutant(inst: Instance) -> None:
    """Near miss (V's tie convention changed): the true P* has V = 0 with ties counted ½."""
    _d3_stats(inst, (), strict=False)


def check_d3_half_mutant(inst: Instance) -> None:
    """Near miss of the strengthened claim: ρ_RDP ≥ ½ wherever defined, at every placement (it held at the
    grid placement in every sweep seen, not at the budget and actual placements)."""
    _d3_stats(inst, (), strict=True, rho_floor=0.5)


def check_d3_one_mutant(inst: Instance) -> None:
    """Mutant: a faithful measure has ρ_RDP = +1 — the true P* reaches it on every sweep."""
    _d3_stats(inst, (), strict=True, rho_floor=1.0)


def _d3_replay(inst: Instance, path: str) -> list[str]:
    gr, gd = inst.extra["grid_r"], inst.extra["grid_d"]
    r_top, d_top = rate_upper(inst), distortion_upper(inst)
    return [
        inst.solve_command(path, max_rate=r_top * i / (gr - 1), max_distortion=d_top * j / (gd - 1))
        for i in range(gr)
        for j in range(gd)
    ]


CLAIM = Claim(
    id="C-D3",
    title="Proxy criterion",
    statement="On a sweep of exact optima P*(r, δ) over a product grid of budgets, the true P* has "
    "V_strict = 0 and ρ_RDP ≥ 0, strictly positive whenever P* is not constant over the sweep, with "
    "points at their budgets (the full grid, infeasible cells as q = ∞; or the feasible cells only) or "
    "at their optimal SAE's actual (R, D). ρ_RDP does not reach +1: see the report's statistics.",
    check=check_d3,
    strategy=lambda cl: _d3_draws(cl),
    applies_to=ALL_CLASSES,
    scope="Every class and mode, grids of 2–4 × 2–4 budgets, n ≤ 3, m ≤ 2; V_strict (ties not counted) "
    "and ρ_RDP ≥ 0 proven for the grid placement (Harris/FKG), found without counterexample for the "
    "budget and actual placements; ρ_RDP > 0 whenever P* varies, measured not proven.",
    mutants=(
        Mutant("V's tie convention changed: the true P* has V = 0 with ties counted ½", check_d3_mutant,
               lambda: _d3_draws(FREE), name="ties-half", near_miss=True),
        Mutant("ρ_RDP ≥ ½ at every placement", check_d3_half_mutant, lambda: _d3_draws(FREE), name="rho-half",
               near_miss=True, ci_examples=150),
        Mutant("a faithful measure reaches ρ_RDP = +1 on exact sweeps", check_d3_one_mutant, lambda: _d3_draws(FREE),
               name="rho-one"),
    ),
    replay=_d3_replay,
    ci_examples=60,
)

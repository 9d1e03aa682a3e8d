"""Hypothesis strategies for the falsifier (DESIGN §2, §8).

Everything drawn here is small enough for the brute-force oracle: n ≤ 5 concepts, at most 16 events
and width m ≤ 3 in the free class, n ≤ 3 and m ≤ 2 in the threshold class. The strategies are built so
that the edge cases the claims care about are actually reached (``test_strategies.py`` checks it, in the spirit of Hypothesis'
own "does the search find this?" tier):

* pmfs with any support size, the empty event included, ties (small integer weights), zeros (dropped
  by :meth:`ConceptPMF.from_events`), a single event, and near-degenerate masses (one weight 10^5);
* k = 1, k = m, m ≥ 2^n − 1 (more latents than nonempty atoms), n = 1;
* budgets exactly on attainable values, just below them, zero budgets (P budget 0), and no budget.

An :class:`Instance` is one query (pmf, m, k, class, mode, objective, budgets) plus a free-form ``extra``
dict for claim-specific draws; it knows how to build the :class:`~rdp_exact.problem.Problem` and the
``rdp solve`` command that replays it.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import strategies as st

from rdp_exact.pmf import ConceptPMF, concepts_of
from rdp_exact.problem import Problem

#: Largest instance sizes the strategies draw (brute force must stay fast): n ≤ 5 and at most
#: MAX_SUPPORT events in the free class, n ≤ 3 and m ≤ 2 in the threshold class.
MAX_N_FREE = 5
MAX_WIDTH_FREE = 3
MAX_N_THRESHOLD = 3
MAX_WIDTH_THRESHOLD = 2
MAX_SUPPORT = 16

ENCODERS = ("free", "threshold")
MODES = ("integer", "disjoint")
#: (encoder class, coefficient mode) pairs.
ALL_CLASSES: tuple[tuple[str, str], ...] = tuple((e, c) for e in ENCODERS for c in MODES)

#: Weight of a near-degenerate event (its neighbours get weights 0..8, so their masses are ~1e-5).
HEAVY_WEIGHT = 10**5

#: P values a binary row can take, 1 − 1/√t, plus 0 and 1: natural P budgets.
POLY_LEVELS = (0.0, 1 - 1 / math.sqrt(2), (1 - 1 / math.sqrt(2)) / 2, 1 - 1 / math.sqrt(3), 1.0)


@dataclass(frozen=True)
class Instance:
    """One drawn query (DESIGN §1.4) and claim-specific extras."""

    pmf: ConceptPMF
    width: int
    k: int
    encoder: str = "free"
    coefficients: str = "integer"
    encoder_weights: str = "ternary"
    poly: str = "joint"
    minimize: str = "distortion"
    max_rate: float | None = None
    max_distortion: float | None = None
    max_poly: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Claim-specific draws (a concept set, a second budget, …); JSON-serialisable."""

    def problem(self, **changes: Any) -> Problem:
        """The :class:`Problem` of this instance, with optional field changes (e.g. ``k=m``)."""
        fields = {
            "pmf": self.pmf,
            "width": self.width,
            "k": self.k,
            "minimize": self.minimize,
            "max_rate": self.max_rate,
            "max_distortion": self.max_distortion,
            "max_poly": self.max_poly,
            "encoder": self.encoder,
            "coefficients": self.coefficients,
            "encoder_weights": self.encoder_weights,
            "poly": self.poly,
        }
        fields.update(changes)
        return Problem(**fields)  # type: ignore[arg-type]

    def with_(self, **changes: Any) -> Instance:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def solve_command(self, pmf_path: str, **changes: Any) -> str:
        """The ``rdp solve`` command line that solves this instance's query on the saved pmf."""
        p = self.problem(**changes)
        args = ["rdp", "solve", pmf_path, "--width", str(p.width), "--k", str(p.k), "--minimize", p.minimize]
        for flag, v in (("--max-rate", p.max_rate), ("--max-distortion", p.max_distortion), ("--max-poly", p.max_poly)):
            if v is not None:
                args += [flag, repr(float(v))]
        args += ["--encoder", p.encoder, "--coefficients", p.coefficients]
        if p.encoder == "threshold":
            args += ["--encoder-weights", p.encoder_weights, "--poly", p.poly]
        args += ["--solver", "brute"]
        return " ".join(shlex.quote(a) for a in args)

    def to_json_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the instance (pmf in the file format of DESIGN §5.1)."""
        return {
            "pmf": self.pmf.to_dict(),
            "width": self.width,
            "k": self.k,
            "encoder": self.encoder,
            "coefficients": self.coefficients,
            "encoder_weights": self.encoder_weights,
            "poly": self.poly,
            "minimize": self.minimize,
            "max_rate": self.max_rate,
            "max_distortion": self.max_distortion,
            "max_poly": self.max_poly,
            "extra": self.extra,
        }

    def describe(self) -> str:
        """One readable line: the pmf's events and the query."""
        ev = ", ".join(f"{fmt(e)}:{p:.6g}" for e, p in self.pmf.items())
        budgets = ", ".join(
            f"{name}={v:.6g}"
            for name, v in (("r", self.max_rate), ("δ", self.max_distortion), ("ρ", self.max_poly))
            if v is not None
        )
        cls = self.encoder if self.encoder == "free" else f"threshold/{self.encoder_weights}/{self.poly}"
        extra = f" extra={self.extra}" if self.extra else ""
        return (
            f"n={self.pmf.n} π=[{ev}] m={self.width} k={self.k} {cls} {self.coefficients} "
            f"min {self.minimize}{' s.t. ' + budgets if budgets else ''}{extra}"
        )


def fmt(mask: int) -> str:
    """``{0,2}`` form of a bitmask."""
    return "{" + ",".join(str(c) for c in concepts_of(mask)) + "}"


# ---------------------------------------------------------------------- pmfs
def uniform_int(lo: int, hi: int) -> st.SearchStrategy[int]:
    """An integer in [lo, hi], drawn uniformly (``st.integers`` favours small values, which would leave
    most instances at m = 1 and a single event); it still shrinks towards ``lo``."""
    return st.sampled_from(range(lo, hi + 1))


@st.composite
def pmfs(
    draw: st.DrawFn,
    *,
    min_n: int = 1,
    max_n: int = MAX_N_FREE,
    max_support: int | None = None,
    allow_empty: bool = True,
    min_support: int = 1,
) -> ConceptPMF:
    """Concept pmfs over 1 ≤ n ≤ ``max_n`` concepts.

    Support: a set of distinct events (bitmasks, the empty event allowed unless ``allow_empty`` is
    False) of any size up to 2^n (or ``max_support``). Masses: integer weights in 0..8 (ties are
    common; zero weights are dropped, as the file format prescribes), normalised; with some chance one
    event is made near-degenerate (weight 10^5, the rest then have masses around 1e−5).
    """
    n = draw(uniform_int(min_n, max_n), label="n")
    universe = list(range(0 if allow_empty else 1, 1 << n))
    cap = min(len(universe), MAX_SUPPORT if max_support is None else max_support)
    lo = min(min_support, cap)
    size = draw(uniform_int(lo, cap), label="support size")
    events = draw(st.lists(st.sampled_from(universe), min_size=size, max_size=size, unique=True), label="events")
    weights = draw(st.lists(st.integers(0, 8), min_size=len(events), max_size=len(events)), label="weights")
    if draw(st.integers(0, 7), label="degenerate") == 0:
        heavy = draw(st.integers(0, len(events) - 1))
        weights[heavy] = HEAVY_WEIGHT
    positive = [w for w in weights if w > 0]
    if len(positive) < lo:  # keep at least `min_support` events after dropping zeros
        weights = [w if w > 0 else 1 for w in weights]
    total = sum(weights)
    return ConceptPMF.from_events(n, [(e, w / total) for e, w in zip(events, weights, strict=True)], normalize=True)


def sizes_for(encoder: str) -> tuple[int, int]:
    """(max n, max width) the strategies use for an encoder class."""
    return (MAX_N_THRESHOLD, MAX_WIDTH_THRESHOLD) if encoder == "threshold" else (MAX_N_FREE, MAX_WIDTH_FREE)


@st.composite
def instances(
    draw: st.DrawFn,
    *,
    classes: tuple[tuple[str, str], ...] = ALL_CLASSES,
    min_n: int = 1,
    max_n: int | None = None,
    max_width: int | None = None,
    min_width: int = 1,
    max_support: int | None = None,
    allow_empty: bool = True,
    min_support: int = 1,
) -> Instance:
    """A pmf, width m, cap 1 ≤ k ≤ m, encoder class and coefficient mode (no budgets yet).

    The threshold class stays tiny (n ≤ 3, m ≤ 2); its encoder-weight set and P measure are drawn too.
    ``max_n``/``max_width`` can only lower the per-class limits.
    """
    encoder, coefficients = draw(st.sampled_from(classes), label="class")
    cn, cm = sizes_for(encoder)
    n_hi = cn if max_n is None else min(cn, max_n)
    m_hi = cm if max_width is None else min(cm, max_width)
    pmf = draw(
        pmfs(min_n=min(min_n, n_hi), max_n=n_hi, max_support=max_support, allow_empty=allow_empty,
             min_support=min_support),
        label="pmf",
    )
    width = draw(uniform_int(min(min_width, m_hi), m_hi), label="width")
    k = draw(uniform_int(1, width), label="k")
    ew, poly = "ternary", "joint"
    if encoder == "threshold":
        ew = draw(st.sampled_from(("ternary", "binary")), label="encoder_weights")
        poly = draw(st.sampled_from(("joint", "decoder")), label="poly")
    return Instance(pmf=pmf, width=width, k=k, encoder=encoder, coefficients=coefficients,
                    encoder_weights=ew, poly=poly)


# ---------------------------------------------------------------------- budgets
def attainable_masses(pmf: ConceptPMF) -> list[float]:
    """Cheap attainable-looking values: partial sums of the event masses in increasing order, and the
    weighted sizes π(S)|S|. Budgets drawn on them hit R/D values of real SAEs exactly."""
    ps = sorted(float(p) for p in pmf.probs)
    sums = [math.fsum(ps[: j + 1]) for j in range(len(ps))]
    sized = [float(p) * int(s) for p, s in zip(pmf.probs, pmf.sizes, strict=True)]
    return sorted({round(v, 15) for v in [0.0, *sums, *sized, pmf.expected_sparsity()]})


@st.composite
def budget_values(draw: st.DrawFn, pmf: ConceptPMF, upper: float) -> float:
    """A finite budget in [0, upper]: 0, a grid point, an attainable-looking value, just below one, or
    any float."""
    kind = draw(st.integers(0, 4), label="budget kind")
    if kind == 0:
        return 0.0
    if kind == 1:
        return draw(st.integers(0, 8)) * upper / 8
    if kind in (2, 3):
        v = draw(st.sampled_from(attainable_masses(pmf)))
        return max(0.0, v - 1e-7) if kind == 3 else v
    return draw(st.floats(0.0, max(upper, 0.0), allow_nan=False, allow_infinity=False))


def rate_upper(inst: Instance) -> float:
    """A rate no SAE of the instance exceeds by much: k·P(S ≠ ∅) (and E|S| for monosemantic codes)."""
    nonempty = float(sum(p for e, p in inst.pmf.items() if e))
    return max(inst.k * nonempty, inst.pmf.expected_sparsity())


def distortion_upper(inst: Instance) -> float:
    """E|S|: the distortion of the all-dead SAE, which every optimum improves on."""
    return inst.pmf.expected_sparsity()


def poly_budgets() -> st.SearchStrategy[float]:
    """P budgets: 0 (monosemantic), the levels of binary rows, or any value in [0, 1]."""
    return st.one_of(st.sampled_from(POLY_LEVELS), st.floats(0.0, 1.0, allow_nan=False))


def optional(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    """``None`` (no budget) or a value."""
    return st.one_of(st.none(), strategy)


@st.composite
def queries(
    draw: st.DrawFn,
    base: st.SearchStrategy[Instance] | None = None,
    *,
    objectives: tuple[str, ...] = ("distortion", "rate", "poly"),
    poly_budget: st.SearchStrategy[float | None] | None = None,
) -> Instance:
    """An instance with an objective and budgets on the two other quantities (each possibly absent),
    as in the queries R*(δ, ρ), D*(r, ρ), P*(r, δ) of DESIGN §1.4."""
    inst = draw(base if base is not None else instances(), label="instance")
    minimize = draw(st.sampled_from(objectives), label="minimize")
    rb = optional(budget_values(inst.pmf, rate_upper(inst)))
    db = optional(budget_values(inst.pmf, distortion_upper(inst)))
    pb = poly_budget if poly_budget is not None else optional(poly_budgets())
    return inst.with_(
        minimize=minimize,
        max_rate=None if minimize == "rate" else draw(rb, label="max_rate"),
        max_distortion=None if minimize == "distortion" else draw(db, label="max_distortion"),
        max_poly=None if minimize == "poly" else draw(pb, label="max_poly"),
    )


# ---------------------------------------------------------------------- edge-case predicates
def is_single_event(inst: Instance) -> bool:
    """Support of size 1."""
    return inst.pmf.support_size == 1


def is_overcomplete(inst: Instance) -> bool:
    """m ≥ 2^n − 1: at least as many latents as nonempty atoms."""
    return inst.width >= (1 << inst.pmf.n) - 1


def is_near_degenerate(pmf: ConceptPMF) -> bool:
    """Some event has mass below 1e−4 while another has mass above 0.99."""
    return bool(pmf.probs.min() < 1e-4 and pmf.probs.max() > 0.99)

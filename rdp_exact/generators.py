"""Generator specs and built-in pmfs (DESIGN §5.1).

Specs are ``kind:args`` strings accepted wherever a pmf path is:

* ``example1:p0,...,p7`` — n = 3, probabilities of {}, {0}, {1}, {0,1}, {2}, {0,2}, {1,2}, {0,1,2}
  (the bitmask order 0..7).
* ``independent:p0,p1,...`` — concepts independent with marginals p_i (all 2^n events, n ≤ 20).
* ``random:n=6,support=20,seed=1[,alpha=1.0][,empty=1]`` — ``support`` distinct events drawn uniformly
  among the 2^n subsets (the empty event allowed unless ``empty=0``), Dirichlet(alpha) weights:
  an *unstructured* pmf.
* ``pairs:n=6,pair=0.3,single=0.05,seed=1[,triples=T][,support=N]`` — a *structured* pmf: the concepts
  are shuffled (seeded) into T groups of three and the rest into pairs (a single leftover concept forms
  its own group); each group is active as a whole with probability ``pair``, and each concept is
  active on its own with probability ``single``, all independently; an event is the union. With
  ``support=N`` only the N most probable events are kept (ties by bitmask) and renormalised.
* built-in names (``rdp pmf --list``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rdp_exact.errors import InvalidArgument, PMFError
from rdp_exact.pmf import ConceptPMF, read_pmf
from rdp_exact.validate import check_choice, check_finite, check_int, check_seed

SPEC_KINDS = ("example1", "independent", "random", "pairs")


def _floats(args: str, kind: str) -> list[float]:
    try:
        return [float(x) for x in args.split(",") if x.strip() != ""]
    except ValueError:
        raise PMFError(f"{kind}: expected comma-separated numbers, got {args!r}") from None


def _kwargs(args: str, kind: str, allowed: dict[str, type]) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for part in filter(None, (a.strip() for a in args.split(","))):
        if "=" not in part:
            raise PMFError(f"{kind}: expected key=value, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        if k not in allowed:
            raise PMFError(f"{kind}: unknown key {k!r} (allowed: {', '.join(allowed)})")
        if k in out:
            raise PMFError(f"{kind}: key {k!r} is given twice")
        try:
            out[k] = allowed[k](float(v)) if allowed[k] is int and float(v).is_integer() else allowed[k](v)
        except ValueError:
            raise PMFError(f"{kind}: {k}={v!r} is not a valid {allowed[k].__name__}") from None
    return out


def example1(probs: list[float], *, normalize: bool = False) -> ConceptPMF:
    """The three-concept pmf of Example 1 from its eight entries in bitmask order."""
    if len(probs) != 8:
        raise PMFError(f"example1: expected 8 probabilities, got {len(probs)}")
    return ConceptPMF.from_events(3, list(enumerate(probs)), normalize=normalize)


def independent(marginals: list[float]) -> ConceptPMF:
    """Product pmf: concept i active with probability p_i, independently."""
    n = len(marginals)
    if n < 1:
        raise PMFError("independent: give at least one marginal")
    if n > 20:
        raise PMFError(f"independent: n = {n} is too large (2^n events; at most 20)")
    p = np.asarray(marginals, dtype=float)
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise PMFError(f"independent: marginals must lie in [0, 1], got {marginals}")
    masks = np.arange(1 << n, dtype=np.int64)
    ind = (masks[:, None] >> np.arange(n)) & 1
    probs = np.prod(np.where(ind == 1, p[None, :], 1 - p[None, :]), axis=1)
    return ConceptPMF.from_events(n, list(zip(masks.tolist(), probs.tolist(), strict=True)), normalize=True)


def _pmf_check(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """Run a validator, re-raising its error as a :class:`PMFError`."""
    try:
        return fn(*args, **kw)
    except PMFError:
        raise
    except InvalidArgument as exc:
        raise PMFError(str(exc)) from None


def random_pmf(n: int, support: int, seed: int = 0, alpha: float = 1.0, empty: int = 1) -> ConceptPMF:
    """Unstructured pmf: ``support`` distinct random events with Dirichlet(alpha) weights."""
    n = _pmf_check(check_int, "random: n", n, min=1, max=30)
    seed = _pmf_check(check_seed, "random: seed", seed)
    alpha = _pmf_check(check_finite, "random: alpha", alpha, positive=True)
    empty = _pmf_check(check_choice, "random: empty", empty, (0, 1))
    universe = (1 << n) - (0 if empty else 1)
    support = _pmf_check(check_int, f"random: support (for n = {n})", support, min=1, max=universe)
    rng = np.random.default_rng(seed)
    if universe <= 1 << 20:
        picks = rng.choice(universe, size=support, replace=False)
    else:
        chosen: set[int] = set()
        while len(chosen) < support:
            chosen.add(int(rng.integers(0, universe)))
        picks = np.array(sorted(chosen))
    masks = picks + (0 if empty else 1)
    w = rng.dirichlet(np.full(support, alpha))
    return ConceptPMF.from_events(n, list(zip(masks.tolist(), w.tolist(), strict=True)), normalize=True)


def pairs_pmf(
    n: int, pair: float, single: float, seed: int = 0, triples: int = 0, support: int | None = None
) -> ConceptPMF:
    """Structured pmf of co-occurring groups plus rare singletons (see module docstring)."""
    n = _pmf_check(check_int, "pairs: n", n, min=1, max=20)
    pair = _pmf_check(check_finite, "pairs: pair", pair, min=0, max=1)
    single = _pmf_check(check_finite, "pairs: single", single, min=0, max=1)
    seed = _pmf_check(check_seed, "pairs: seed", seed)
    triples = _pmf_check(check_int, "pairs: triples", triples, min=0, max=n // 3)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n).tolist()
    groups: list[list[int]] = [order[3 * t : 3 * t + 3] for t in range(triples)]
    rest = order[3 * triples :]
    groups += [rest[i : i + 2] for i in range(0, len(rest), 2)]
    # exact pmf over all 2^n events: independent across groups
    masks = np.arange(1 << n, dtype=np.int64)
    probs = np.ones(1 << n)
    for g in groups:
        sub = np.zeros(1 << n, dtype=np.int64)
        for c in g:
            sub += (masks >> c) & 1
        full = len(g)
        p_pattern = (1 - pair) * single**sub * (1 - single) ** (full - sub)
        p_pattern = np.where(sub == full, p_pattern + pair, p_pattern)
        probs *= p_pattern
    keep = np.flatnonzero(probs > 0)
    if support is not None:
        support = _pmf_check(check_int, "pairs: support", support, min=1)
        order_idx = np.lexsort((masks[keep], -probs[keep]))
        keep = keep[order_idx[:support]]
    return ConceptPMF.from_events(
        n, list(zip(masks[keep].tolist(), probs[keep].tolist(), strict=True)), normalize=True
    )


def from_spec(spec: str, *, normalize: bool = False) -> ConceptPMF:
    """Build a pmf from a generator spec ``kind:args``."""
    kind, _, args = spec.partition(":")
    if kind == "example1":
        return example1(_floats(args, kind), normalize=normalize)
    if kind == "independent":
        return independent(_floats(args, kind))
    if kind == "random":
        kw = _kwargs(args, kind, {"n": int, "support": int, "seed": int, "alpha": float, "empty": int})
        for req in ("n", "support"):
            if req not in kw:
                raise PMFError(f"random: missing {req}= (e.g. random:n=6,support=20,seed=1)")
        return random_pmf(**kw)  # type: ignore[arg-type]
    if kind == "pairs":
        kw = _kwargs(
            args,
            kind,
            {"n": int, "pair": float, "single": float, "seed": int, "triples": int, "support": int},
        )
        for req in ("n", "pair", "single"):
            if req not in kw:
                raise PMFError(f"pairs: missing {req}= (e.g. pairs:n=6,pair=0.3,single=0.05,seed=1)")
        return pairs_pmf(**kw)  # type: ignore[arg-type]
    raise PMFError(f"unknown generator {kind!r} (known: {', '.join(SPEC_KINDS)})")


def _named(n: int, names: list[str], table: dict[tuple[int, ...], float]) -> ConceptPMF:
    return ConceptPMF.from_events(n, list(table.items()), concept_names=names)


#: Built-in pmfs: name → (description, factory).
BUILTINS: dict[str, tuple[str, Callable[[], ConceptPMF]]] = {
    "cooccur3": (
        "three concepts; 0 and 1 co-occur often (the demo pmf)",
        lambda: _named(
            3,
            ["a", "b", "c"],
            {(): 0.05, (0,): 0.15, (1,): 0.10, (0, 1): 0.40, (2,): 0.20, (0, 2): 0.04, (1, 2): 0.03, (0, 1, 2): 0.03},
        ),
    ),
    "independent3": ("three independent concepts with marginals 0.3", lambda: independent([0.3, 0.3, 0.3])),
    "nested3": (
        "three concepts; 1 almost always comes with 0 (feature splitting/absorption pressure)",
        lambda: _named(
            3,
            ["animal", "dog", "red"],
            {(): 0.10, (0,): 0.30, (0, 1): 0.35, (1,): 0.02, (2,): 0.13, (0, 2): 0.05, (0, 1, 2): 0.05},
        ),
    ),
    "pairs6": ("six concepts in three frequent pairs plus rare singletons", lambda: pairs_pmf(6, 0.3, 0.05, 1)),
    "pairs12": (
        "twelve concepts, pairs and two triples, 128 most probable events (solver benchmark)",
        lambda: pairs_pmf(12, 0.3, 0.05, 1, triples=2, support=128),
    ),
    "random8": ("unstructured: 64 random events over 8 concepts", lambda: random_pmf(8, 64, 1)),
}


def builtin(name: str) -> ConceptPMF:
    """A built-in pmf by name."""
    if name not in BUILTINS:
        raise PMFError(f"unknown built-in pmf {name!r} (see rdp pmf --list)")
    return BUILTINS[name][1]()


def all_events(n: int) -> list[tuple[int, ...]]:
    """Every subset of {0..n−1} as a tuple, in bitmask order (helper for tests and docs)."""
    return [tuple(c for c in range(n) if m >> c & 1) for m in range(1 << n)]


__all__ = [
    "BUILTINS",
    "SPEC_KINDS",
    "all_events",
    "builtin",
    "example1",
    "from_spec",
    "independent",
    "pairs_pmf",
    "random_pmf",
]


def load_pmf(path_or_spec: str | os.PathLike[str], *, normalize: bool = False) -> ConceptPMF:
    """Load a pmf from a file path, a generator spec (``kind:args``) or a built-in name."""
    s = str(path_or_spec)
    if not Path(s).exists():
        if s in BUILTINS:
            return builtin(s)
        if ":" in s and s.split(":", 1)[0] in SPEC_KINDS:
            return from_spec(s, normalize=normalize)
    return read_pmf(s, normalize=normalize)

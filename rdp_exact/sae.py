"""Combinatorial SAEs and their exact evaluation (DESIGN §1.2–1.3).

A width-m combinatorial SAE over n concepts has a decoder atom A_j ⊆ {0..n−1} per latent (a bitmask;
0 = dead) and an encoder that says which latents are active on each event S:

* ``free`` class: an explicit code z(S) ⊆ {0..m−1} per support event (events not listed use no
  latent); :meth:`CombinatorialSAE.best_response` builds the optimal code for given atoms;
* ``threshold`` class: latent j fires on S iff Σ_{i∈S} e_ji ≥ θ_j with e_j ∈ {−1,0,1}^n, θ_j ≥ 1.

Active latents write their atom with unit weight: c_i(S) = #{j ∈ z(S) : i ∈ A_j}. Then, exactly,

    R = Σ_S π(S)·|z(S)|,        D = Σ_S π(S)·Σ_i (1[i∈S] − c_i(S))²        (C-L1)

and in ``disjoint`` mode the active atoms of an event must be pairwise disjoint, so c ∈ {0,1}^n and
D = Σ_S π(S)·|S Δ R(S)|. Polysemanticity is measured on the canonical form (§1.2): only live latents
(firing on some support event, nonempty atom) count; in the free class duplicated live atoms count once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF, concepts_of, format_event, mask_of, popcount
from rdp_exact.polysemanticity import binary_row_poly

EncoderClass = Literal["free", "threshold"]
CoefficientMode = Literal["integer", "disjoint"]
PolyMeasure = Literal["joint", "decoder"]


@dataclass(frozen=True)
class ThresholdUnit:
    """Encoder of one latent in the threshold class: fires on S iff Σ_{i∈S} weights[i] ≥ threshold."""

    weights: tuple[int, ...]
    """e_j ∈ {−1, 0, 1}^n."""
    threshold: int
    """θ_j ≥ 1."""

    def __post_init__(self) -> None:
        if any(w not in (-1, 0, 1) for w in self.weights):
            raise InvalidArgument(f"encoder weights must be in {{-1,0,1}}, got {self.weights}")
        if self.threshold < 1:
            raise InvalidArgument(f"encoder threshold must be ≥ 1, got {self.threshold}")

    @property
    def pos_mask(self) -> int:
        """Concepts with weight +1."""
        return mask_of(i for i, w in enumerate(self.weights) if w == 1)

    @property
    def neg_mask(self) -> int:
        """Concepts with weight −1."""
        return mask_of(i for i, w in enumerate(self.weights) if w == -1)

    def fires(self, event: int) -> bool:
        """Whether the unit fires on event S (bitmask)."""
        return popcount(event & self.pos_mask) - popcount(event & self.neg_mask) >= self.threshold

    @property
    def poly(self) -> float:
        """1 − max|cos| of the encoder row: 1 − 1/√nnz."""
        return binary_row_poly(sum(1 for w in self.weights if w != 0))


@dataclass(frozen=True)
class Evaluation:
    """Exact R, D and polysemanticity of a combinatorial SAE on a pmf."""

    rate: float
    distortion: float
    poly_dec: float
    poly_enc: float | None
    """None in the free class (no encoder weights)."""
    poly_joint: float | None
    """(P_enc + P_dec)/2; None in the free class."""
    active: tuple[tuple[int, ...], ...]
    """Active latents per support event, in the pmf's event order."""
    coefficients: np.ndarray = field(repr=False)
    """c(S) per event [N, n] (integers)."""
    errors: np.ndarray = field(repr=False)
    """Σ_i (1[i∈S] − c_i(S))² per event [N]."""
    live: tuple[bool, ...]
    """Per latent: fires on some support event and has a nonempty atom."""
    max_active: int
    """max_S |z(S)| over the support."""

    def poly(self, measure: PolyMeasure = "joint") -> float:
        """The class's polysemanticity: P_dec in the free class, else P_joint (or P_dec if asked)."""
        if self.poly_joint is None or measure == "decoder":
            return self.poly_dec
        return self.poly_joint


@dataclass(frozen=True)
class CombinatorialSAE:
    """A combinatorial SAE (DESIGN §1.2). Build with :meth:`free`, :meth:`best_response` or :meth:`threshold`."""

    n: int
    """Number of concepts."""
    atoms: tuple[int, ...]
    """Decoder atom per latent as a bitmask over concepts (0 = dead latent)."""
    coefficients: CoefficientMode = "integer"
    """How active atoms combine (``integer`` adds, ``disjoint`` requires disjoint active atoms)."""
    code: tuple[tuple[int, tuple[int, ...]], ...] | None = None
    """Free class: (event bitmask, active latents) pairs; events not listed activate nothing."""
    encoder: tuple[ThresholdUnit, ...] | None = None
    """Threshold class: one unit per latent."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise InvalidArgument(f"n must be ≥ 1, got {self.n}")
        if not self.atoms:
            raise InvalidArgument("an SAE needs at least one latent")
        for a in self.atoms:
            if a < 0 or a >> self.n:
                raise InvalidArgument(f"atom {a} uses a concept outside [0, {self.n})")
        if (self.code is None) == (self.encoder is None):
            raise InvalidArgument("give exactly one of a free code or threshold encoder units")
        if self.encoder is not None:
            if len(self.encoder) != len(self.atoms):
                raise InvalidArgument(f"{len(self.encoder)} encoder units for {len(self.atoms)} latents")
            for u in self.encoder:
                if len(u.weights) != self.n:
                    raise InvalidArgument(f"encoder row has {len(u.weights)} weights, expected n = {self.n}")
        if self.code is not None:
            seen = set()
            for ev, act in self.code:
                if ev in seen:
                    raise InvalidArgument(f"event {format_event(ev)} appears twice in the code")
                seen.add(ev)
                if len(set(act)) != len(act) or any(not 0 <= j < len(self.atoms) for j in act):
                    raise InvalidArgument(f"bad active latents {act} for event {format_event(ev)}")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def free(
        cls,
        n: int,
        atoms: Sequence[Iterable[int] | int],
        code: Mapping[int, Iterable[int]],
        coefficients: CoefficientMode = "integer",
    ) -> CombinatorialSAE:
        """Free-class SAE from atoms (concept lists or bitmasks) and a code {event mask: latents}."""
        am = tuple(a if isinstance(a, int) else mask_of(a) for a in atoms)
        cd = tuple(sorted((int(ev), tuple(sorted(int(j) for j in act))) for ev, act in code.items()))
        return cls(n=n, atoms=am, coefficients=coefficients, code=cd)

    @classmethod
    def threshold(
        cls,
        n: int,
        atoms: Sequence[Iterable[int] | int],
        encoder: Sequence[ThresholdUnit | tuple[Sequence[int], int]],
        coefficients: CoefficientMode = "integer",
    ) -> CombinatorialSAE:
        """Threshold-class SAE from atoms and one (weights, threshold) per latent."""
        am = tuple(a if isinstance(a, int) else mask_of(a) for a in atoms)
        units = tuple(
            u if isinstance(u, ThresholdUnit) else ThresholdUnit(tuple(int(w) for w in u[0]), int(u[1]))
            for u in encoder
        )
        return cls(n=n, atoms=am, coefficients=coefficients, encoder=units)

    @classmethod
    def best_response(
        cls,
        pmf: ConceptPMF,
        atoms: Sequence[Iterable[int] | int],
        k: int,
        coefficients: CoefficientMode = "integer",
    ) -> CombinatorialSAE:
        """Free-class SAE with the optimal code for fixed atoms (optimal inference).

        On each event it activates the set of at most k latents with the least squared error, then
        the least rate, then the lexicographically smallest latent tuple (disjoint mode: only sets of
        pairwise disjoint atoms). Enumerates Σ_{t≤k} C(m, t) sets per event.
        """
        am = tuple(a if isinstance(a, int) else mask_of(a) for a in atoms)
        code: dict[int, tuple[int, ...]] = {}
        for ev in pmf.events:
            best: tuple[int, int, tuple[int, ...]] | None = None
            for t in range(0, min(k, len(am)) + 1):
                for combo in itertools.combinations(range(len(am)), t):
                    if any(am[j] == 0 for j in combo):
                        continue
                    err = event_error(pmf.n, ev, [am[j] for j in combo], coefficients)
                    if err is None:
                        continue
                    key = (err, t, combo)
                    if best is None or key < best:
                        best = key
            assert best is not None  # the empty set is always allowed
            if best[2]:
                code[ev] = best[2]
        return cls.free(pmf.n, am, code, coefficients)

    # ------------------------------------------------------------------ views
    @property
    def width(self) -> int:
        """m, the number of latents."""
        return len(self.atoms)

    @property
    def encoder_class(self) -> EncoderClass:
        """``free`` or ``threshold``."""
        return "free" if self.encoder is None else "threshold"

    def active_on(self, event: int) -> tuple[int, ...]:
        """Latents active on an event (bitmask)."""
        if self.encoder is not None:
            return tuple(j for j, u in enumerate(self.encoder) if u.fires(event))
        assert self.code is not None
        for ev, act in self.code:
            if ev == event:
                return act
        return ()

    def atom_matrix(self) -> np.ndarray:
        """Decoder rows in concept coordinates: [m, n] 0/1."""
        a = np.array(self.atoms, dtype=np.int64)
        return ((a[:, None] >> np.arange(self.n)) & 1).astype(np.float64)

    def encoder_matrix(self) -> np.ndarray | None:
        """Encoder rows [m, n] in {−1,0,1}, or None in the free class."""
        if self.encoder is None:
            return None
        return np.array([u.weights for u in self.encoder], dtype=np.float64)

    def sorted_atoms(self) -> list[list[int]]:
        """Atoms as sorted concept lists, latents in their stored order."""
        return [concepts_of(a) for a in self.atoms]

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, pmf: ConceptPMF, k: int | None = None) -> Evaluation:
        """Exact R, D, P_dec, P_enc, P_joint on ``pmf`` (C-L1). Checks the cap k and disjointness."""
        if pmf.n != self.n:
            raise InvalidArgument(f"SAE has n = {self.n} concepts but the pmf has n = {pmf.n}")
        m = self.width
        active = tuple(self.active_on(ev) for ev in pmf.events)
        Z = np.zeros((pmf.support_size, m), dtype=np.int64)  # [N, m]
        for s, act in enumerate(active):
            Z[s, list(act)] = 1
        A = self.atom_matrix().astype(np.int64)  # [m, n]
        C = Z @ A  # [N, n]
        ind = pmf.indicator
        if self.coefficients == "disjoint" and C.size and C.max() > 1:
            s = int(np.argmax(C.max(axis=1)))
            raise InvalidArgument(
                f"disjoint mode: active atoms overlap on event {format_event(pmf.events[s])}"
            )
        errors = ((ind - C) ** 2).sum(axis=1).astype(np.float64)
        sizes = Z.sum(axis=1)
        max_active = int(sizes.max()) if sizes.size else 0
        if k is not None and max_active > k:
            s = int(np.argmax(sizes))
            raise InvalidArgument(
                f"the code activates {max_active} latents on event {format_event(pmf.events[s])}, above the cap k = {k}"
            )
        rate = float(pmf.probs @ sizes)
        distortion = float(pmf.probs @ errors)
        fired = Z.any(axis=0)
        live = tuple(bool(fired[j]) and self.atoms[j] != 0 for j in range(m))
        if self.encoder is None:
            distinct = sorted({self.atoms[j] for j in range(m) if live[j]})
            p_dec = float(np.mean([binary_row_poly(popcount(a)) for a in distinct])) if distinct else 0.0
            p_enc = p_joint = None
        else:
            idx = [j for j in range(m) if live[j]]
            if idx:
                p_dec = float(np.mean([binary_row_poly(popcount(self.atoms[j])) for j in idx]))
                p_enc = float(np.mean([self.encoder[j].poly for j in idx]))
            else:
                p_dec = p_enc = 0.0
            p_joint = 0.5 * (p_dec + p_enc)
        return Evaluation(
            rate=rate,
            distortion=distortion,
            poly_dec=p_dec,
            poly_enc=p_enc,
            poly_joint=p_joint,
            active=active,
            coefficients=C,
            errors=errors,
            live=live,
            max_active=max_active,
        )

    def canonical(self, pmf: ConceptPMF) -> CombinatorialSAE:
        """Canonical form on ``pmf`` (§1.2): latents that never fire become dead (atom ∅); in the free
        class duplicated live atoms are merged when they are never active together; latents are sorted
        by atom (live first), so SAEs equal up to a permutation of latents compare equal."""
        ev = self.evaluate(pmf)
        m = self.width
        atoms = [self.atoms[j] if ev.live[j] else 0 for j in range(m)]
        if self.encoder is not None:
            units_in = self.encoder
            order = sorted(range(m), key=lambda j: (atoms[j] == 0, atoms[j], units_in[j].weights, units_in[j].threshold))
            return CombinatorialSAE(
                n=self.n,
                atoms=tuple(atoms[j] for j in order),
                coefficients=self.coefficients,
                encoder=tuple(units_in[j] for j in order),
            )
        # free class: merge duplicates that never co-fire
        rep: dict[int, int] = {}
        remap: dict[int, int] = {}
        for j in range(m):
            if atoms[j] == 0:
                continue
            r = rep.get(atoms[j])
            if r is not None and not any(j in act and r in act for act in ev.active):
                remap[j] = r
            else:
                rep.setdefault(atoms[j], j)
        keep = [j for j in range(m) if atoms[j] != 0 and j not in remap]
        order = sorted(keep, key=lambda j: (atoms[j], j))
        new_index = {j: i for i, j in enumerate(order)}
        new_atoms = [atoms[j] for j in order] + [0] * (m - len(order))
        code = {}
        for e, act in zip(pmf.events, ev.active, strict=True):
            mapped = sorted(new_index[remap.get(j, j)] for j in act if atoms[j] != 0)
            if mapped:
                code[e] = mapped
        return CombinatorialSAE.free(self.n, new_atoms, code, self.coefficients)


def event_error(n: int, event: int, active_atoms: Sequence[int], coefficients: CoefficientMode) -> int | None:
    """Squared error of reconstructing ``event`` from unit-weight active atoms, or None when the
    atoms overlap in disjoint mode."""
    c = [0] * n
    union = 0
    for a in active_atoms:
        if coefficients == "disjoint" and union & a:
            return None
        union |= a
        for i in concepts_of(a):
            c[i] += 1
    return sum(((event >> i & 1) - c[i]) ** 2 for i in range(n))

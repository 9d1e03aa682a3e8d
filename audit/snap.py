"""Snap a trained SAE to a combinatorial SAE and read each latent's structure (DESIGN §7, §1.2).

A trained SAE (decoder rows w_j ∈ R^d, encoder columns e_j = W_enc[:, j]) on the toy DGP with concept
directions V (rows v_i, orthonormal under A1) is read in concept coordinates:

* **decoder cosines** C_ji = ⟨w_j, v_i⟩ / ||w_j|| (DESIGN §1.3; zero rows give zeros);
* **snapped atom** A_j = {i : C_ji > τ} (τ = ``cos_threshold``, default 0.5). The comparison is signed:
  a row that *subtracts* a concept does not contain it (A4 atoms are 0/1). A row over t concepts with
  equal weights has cosines 1/√t, so τ = 0.5 keeps every concept of a mixture of up to 3 concepts;
* **encoder sign pattern** s_ji ∈ {−1, 0, +1}: the sign of the encoder cosine E_ji = ⟨e_j, v_i⟩/||e_j||
  where |E_ji| ≥ τ_enc (``enc_threshold``, default 0.25), else 0;
* **firing pattern**: the set of latents active (|f_j| > 1e−9) on each support point x(S) = Σ_{i∈S} v_i,
  computed by running the SAE itself (inference mode) — this is what the SAE actually does.

The **snapped SAE** is the combinatorial SAE with these atoms, evaluated exactly (C-L1) twice:

* ``best``: the free class with the best-response code (optimal inference for the snapped atoms under
  the cap k: per event the set of ≤ k latents with the least error, then the least rate, then the
  lexicographically smallest latent tuple — :meth:`rdp_exact.sae.CombinatorialSAE.best_response`; every
  nonempty snapped atom may be used, dead latents' included);
* ``observed``: the free class with the firing pattern actually observed as an explicit code (latents
  whose snapped atom is empty are dropped from the code: they write nothing in concept space).

Biases are not part of the combinatorial class (A2): a trained b_dec that reconstructs a concept on
every input is reported separately (:attr:`SnappedSAE.bias_concepts`: concepts i with ⟨b_dec, v_i⟩ > τ).

**Latent structure** (deterministic; each latent gets exactly one *kind*, checked in this order, and an
independent *absorbing* flag). F_j is the set of support events on which latent j fires, and "live"
means F_j ≠ ∅.

1. ``dead`` — F_j = ∅: the latent fires on no support event.
2. ``unaligned`` — live but A_j = ∅: no concept has decoder cosine above τ (e.g. a row spread evenly
   over ≥ 4 concepts, or one that only subtracts concepts).
3. ``splitting`` — live, A_j ≠ ∅, and some other live latent j' with A_j' ≠ ∅ has A_j ⊊ A_j' or
   A_j' ⊊ A_j (one atom is a proper subset of the other, so they share concepts: e.g. {a,b} and {a}).
   Both latents of such a pair are splitting.
4. ``monosemantic`` — |A_j| = 1.
5. ``hedged`` — |A_j| ≥ 2 and the latent fires on some support event S with |S ∩ A_j| ≥ 2: its concepts
   co-occur and it is used to write them jointly.
6. ``mixed`` — |A_j| ≥ 2 but it never fires on an event holding two of its concepts (superposition of
   concepts that are not written together).

**absorbing** — latent j is absorbing when there are concepts a ∈ A_j and b ∉ A_j that co-occur on the
support (π(a ∧ b) > 0) such that j fires on some support event with a and without b, fires on *no*
support event with both a and b ("fires on a only when b is absent"), and at least one piece of evidence
explains it: ``encoder`` — the encoder sign pattern has s_ja = +1 and s_jb = −1 ("a unless b"); or
``activations`` — on every support event with both a and b, another active latent's atom contains a (a
is absorbed by another latent, as in feature absorption). A plain omission (j silent on a ∧ b because
the cap is spent elsewhere, nobody writing a, and no negative encoder weight) is not absorption.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF, concepts_of, format_event, popcount
from rdp_exact.polysemanticity import cosine_table
from rdp_exact.sae import CombinatorialSAE, Evaluation
from rdp_exact.validate import check_count, check_float

LatentKind = Literal["dead", "unaligned", "splitting", "monosemantic", "hedged", "mixed"]
#: Every kind, in the order the rules are checked.
KINDS: tuple[LatentKind, ...] = ("dead", "unaligned", "splitting", "monosemantic", "hedged", "mixed")

#: A latent counts as active on an input when |f_j| exceeds this (same as sae_train.evaluate.ACTIVE_TOL).
ACTIVE_TOL = 1e-9
#: Largest (number of latent sets × events) the exact best response enumerates.
MAX_BEST_RESPONSE_WORK = 50_000_000
#: Largest number of latent sets per event the exact best response enumerates.
MAX_BEST_RESPONSE_SETS = 200_000


@dataclass(frozen=True)
class SnapConfig:
    """Thresholds of the snapping (module docstring)."""

    cos_threshold: float = 0.5
    """τ: concept i is in atom A_j iff C_ji > τ (also used for b_dec's concepts)."""
    enc_threshold: float = 0.25
    """τ_enc: the encoder sign pattern keeps concepts with |E_ji| ≥ τ_enc."""
    active_tol: float = ACTIVE_TOL
    """A latent is active on an input when |f_j| > active_tol."""

    def __post_init__(self) -> None:
        for name in ("cos_threshold", "enc_threshold"):
            check_float(name.replace("_", "-"), getattr(self, name), min=0.0, max=1.0, max_exclusive=True)
        check_float("active tolerance", self.active_tol, min=0.0)


@dataclass(frozen=True)
class LatentStructure:
    """The structure of one latent (module docstring)."""

    index: int
    kind: LatentKind
    atom: int
    """Snapped decoder atom (bitmask)."""
    encoder_signs: tuple[int, ...]
    """s_j ∈ {−1, 0, 1}^n."""
    fires_on: tuple[int, ...]
    """Support events (bitmasks) on which the latent fires, in the pmf's order."""
    absorbing: bool
    absorbed: tuple[tuple[int, int], ...] = ()
    """(a, b) concept pairs witnessing absorption: fires on a only when b is absent."""
    evidence: str = ""
    """``encoder``, ``activations`` or ``encoder+activations`` (empty when not absorbing)."""
    partners: tuple[int, ...] = ()
    """Splitting partners (other latents whose atom is a proper sub/superset of this one's)."""
    max_cos: float = 0.0
    """max_i C_ji (signed)."""

    def describe(self, names: Sequence[str]) -> str:
        """One-line human description, e.g. ``hedged {a,b}`` or ``monosemantic {a}, absorbing (a unless b)``."""
        s = f"{self.kind} {format_event(self.atom, names)}"
        if self.partners:
            s += " (with " + ", ".join(f"z{p}" for p in self.partners) + ")"
        if self.absorbing:
            pairs = ", ".join(f"{names[a]} unless {names[b]}" for a, b in self.absorbed)
            s += f", absorbing ({pairs}; {self.evidence})"
        return s


@dataclass(frozen=True)
class SnappedSAE:
    """A trained SAE snapped to a combinatorial SAE, with its latents' structure and exact values."""

    pmf: ConceptPMF = field(repr=False)
    k: int
    """Cap used for the best-response code."""
    atoms: tuple[int, ...]
    """Snapped atom per latent (bitmask; 0 when no concept passes τ)."""
    decoder_cos: np.ndarray = field(repr=False)
    """C [m, n]."""
    encoder_cos: np.ndarray = field(repr=False)
    """E [m, n]."""
    encoder_signs: np.ndarray = field(repr=False)
    """s [m, n] in {−1, 0, 1}."""
    active: np.ndarray = field(repr=False)
    """Observed firing [N, m] bool (pmf event order)."""
    latents: tuple[LatentStructure, ...]
    observed_sae: CombinatorialSAE = field(repr=False)
    observed_eval: Evaluation = field(repr=False)
    best_sae: CombinatorialSAE | None = field(repr=False)
    """None when the exact best response is too large to enumerate."""
    best_eval: Evaluation | None = field(repr=False)
    bias_concepts: int = 0
    """Concepts i with ⟨b_dec, v_i⟩ > τ (written on every input by the bias; not part of the class)."""

    @property
    def width(self) -> int:
        return len(self.atoms)

    def counts(self) -> dict[str, int]:
        """Number of latents of each kind, plus ``absorbing``."""
        out: dict[str, int] = {kind: 0 for kind in KINDS}
        for lat in self.latents:
            out[lat.kind] += 1
        out["absorbing"] = sum(lat.absorbing for lat in self.latents)
        return out

    def atom_matrix(self) -> np.ndarray:
        """Snapped atoms as a 0/1 matrix [m, n]."""
        a = np.array(self.atoms, dtype=np.int64)
        return ((a[:, None] >> np.arange(self.pmf.n)) & 1).astype(np.float64)

    def live(self) -> tuple[bool, ...]:
        """Per latent: fires on some support event."""
        act = np.asarray(self.active, dtype=bool)
        return tuple(bool(act[:, j].any()) for j in range(act.shape[1]))


# ---------------------------------------------------------------------------------------- pieces
def snap_atoms(decoder_cos: np.ndarray, threshold: float) -> tuple[int, ...]:
    """A_j = {i : C_ji > τ} as bitmasks, one per row of the cosine table [m, n]."""
    C = np.asarray(decoder_cos, dtype=np.float64)
    return tuple(int(sum(1 << i for i in np.flatnonzero(row > threshold))) for row in C)


def sign_pattern(encoder_cos: np.ndarray, threshold: float) -> np.ndarray:
    """s_ji = sign(E_ji) where |E_ji| ≥ τ_enc, else 0 (int array [m, n])."""
    E = np.asarray(encoder_cos, dtype=np.float64)
    return np.where(np.abs(E) >= threshold, np.sign(E), 0.0).astype(np.int64)


def classify_latents(
    pmf: ConceptPMF, atoms: Sequence[int], encoder_signs: np.ndarray, active: np.ndarray,
    decoder_cos: np.ndarray | None = None,
) -> tuple[LatentStructure, ...]:
    """Kind and absorbing flag of every latent (rules in the module docstring).

    ``atoms`` [m] bitmasks, ``encoder_signs`` [m, n] in {−1,0,1}, ``active`` [N, m] bool firing on the
    pmf's support events (in its event order).
    """
    m = len(atoms)
    act = np.asarray(active, dtype=bool)
    signs = np.asarray(encoder_signs, dtype=np.int64)
    if act.shape != (pmf.support_size, m):
        raise InvalidArgument(f"firing pattern must have shape [N, m] = [{pmf.support_size}, {m}], got {act.shape}")
    if signs.shape != (m, pmf.n):
        raise InvalidArgument(f"encoder signs must have shape [m, n] = [{m}, {pmf.n}], got {signs.shape}")
    events = pmf.events
    live: np.ndarray = np.asarray(act.any(axis=0), dtype=bool)
    co = pmf.cooccurrence()
    out = []
    for j in range(m):
        A = int(atoms[j])
        fires = tuple(events[s] for s in np.flatnonzero(act[:, j]))
        partners: tuple[int, ...] = ()
        if not live[j]:
            kind: LatentKind = "dead"
        elif A == 0:
            kind = "unaligned"
        else:
            partners = tuple(
                jj for jj in range(m)
                if jj != j and live[jj] and atoms[jj] != 0 and atoms[jj] != A
                and (atoms[jj] & A) in (A, atoms[jj])
            )
            if partners:
                kind = "splitting"
            elif popcount(A) == 1:
                kind = "monosemantic"
            elif any(popcount(ev & A) >= 2 for ev in fires):
                kind = "hedged"
            else:
                kind = "mixed"
        absorbed, evidence = _absorption(pmf, atoms, signs, act, j, co) if live[j] and A else ((), "")
        out.append(
            LatentStructure(
                index=j, kind=kind, atom=A, encoder_signs=tuple(int(x) for x in signs[j]), fires_on=fires,
                absorbing=bool(absorbed), absorbed=absorbed, evidence=evidence, partners=partners,
                max_cos=0.0 if decoder_cos is None else float(np.max(np.asarray(decoder_cos)[j])),
            )
        )
    return tuple(out)


def _absorption(pmf: ConceptPMF, atoms: Sequence[int], signs: np.ndarray, act: np.ndarray, j: int,
                co: np.ndarray) -> tuple[tuple[tuple[int, int], ...], str]:
    """Witness pairs (a, b) and the evidence kinds for latent j (module docstring)."""
    A = int(atoms[j])
    events = pmf.events
    pairs = []
    kinds: set[str] = set()
    for a in concepts_of(A):
        for b in range(pmf.n):
            if A >> b & 1 or co[a, b] <= 0:
                continue
            with_ab = [s for s, ev in enumerate(events) if ev >> a & 1 and ev >> b & 1]
            a_not_b = [s for s, ev in enumerate(events) if ev >> a & 1 and not ev >> b & 1]
            if not with_ab or not any(act[s, j] for s in a_not_b) or any(act[s, j] for s in with_ab):
                continue
            enc = signs[j, a] == 1 and signs[j, b] == -1
            emp = all(
                any(act[s, jj] and atoms[jj] >> a & 1 for jj in range(len(atoms)) if jj != j) for s in with_ab
            )
            if enc or emp:
                pairs.append((a, b))
                if enc:
                    kinds.add("encoder")
                if emp:
                    kinds.add("activations")
    evidence = "+".join(k for k in ("encoder", "activations") if k in kinds)
    return tuple(pairs), evidence


def best_response_code(pmf: ConceptPMF, atoms: Sequence[int], k: int) -> dict[int, tuple[int, ...]] | None:
    """The best-response code of :meth:`CombinatorialSAE.best_response` (integer coefficients), vectorised.

    Duplicated atoms are merged first (firing two copies never lowers the error, and the lowest latent
    index is the lexicographic tie-break), so the work is Σ_{t≤k} C(u, t) latent sets per event over the u
    distinct nonempty atoms. Returns None when that exceeds :data:`MAX_BEST_RESPONSE_SETS` (or the work
    :data:`MAX_BEST_RESPONSE_WORK`).
    """
    first: dict[int, int] = {}
    for j, a in enumerate(atoms):
        if a and a not in first:
            first[int(a)] = j
    uniq = sorted(first, key=lambda a: first[a])  # distinct atoms in latent order
    u = len(uniq)
    kk = min(k, u)
    n_sets = sum(math.comb(u, t) for t in range(kk + 1))
    if n_sets > MAX_BEST_RESPONSE_SETS or n_sets * pmf.support_size > MAX_BEST_RESPONSE_WORK:
        return None
    combos = [c for t in range(kk + 1) for c in itertools.combinations(range(u), t)]
    amat = ((np.array(uniq or [0], dtype=np.int64)[:, None] >> np.arange(pmf.n)) & 1).astype(np.int32)  # [u, n]
    Z = np.zeros((len(combos), max(u, 1)), dtype=np.int32)
    for r, c in enumerate(combos):
        Z[r, list(c)] = 1
    coef = Z @ amat  # [sets, n]
    ind = pmf.indicator  # [N, n]
    code: dict[int, tuple[int, ...]] = {}
    for s, ev in enumerate(pmf.events):
        err = ((ind[s][None, :] - coef) ** 2).sum(-1)  # [sets]
        c = combos[int(np.argmin(err))]  # first minimum: least error, then smallest t, then lexicographic
        if c:
            code[ev] = tuple(sorted(first[uniq[i]] for i in c))
    return code


# ---------------------------------------------------------------------------------------- snapping
def snap(
    pmf: ConceptPMF,
    W_dec: np.ndarray,
    W_enc: np.ndarray,
    V: np.ndarray,
    active: np.ndarray,
    k: int,
    config: SnapConfig | None = None,
    *,
    b_dec: np.ndarray | None = None,
) -> SnappedSAE:
    """Snap one SAE given its weights and its observed firing pattern (module docstring).

    ``W_dec`` [m, d], ``W_enc`` [d, m] (SAELens layout), ``V`` [n, d], ``active`` [N, m] bool (firing on
    each support event, pmf order), ``k`` the cap of the best-response code, ``b_dec`` [d] optional.
    """
    cfg = config or SnapConfig()
    W_dec = np.asarray(W_dec, dtype=np.float64)
    W_enc = np.asarray(W_enc, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    if V.ndim != 2 or V.shape[0] != pmf.n:
        raise InvalidArgument(f"V must have shape [n, d] with n = {pmf.n}, got {V.shape}")
    d = V.shape[1]
    if W_dec.ndim != 2 or W_dec.shape[1] != d:
        raise InvalidArgument(f"W_dec must have shape [m, d] with d = {d}, got {W_dec.shape}")
    m = W_dec.shape[0]
    if W_enc.shape != (d, m):
        raise InvalidArgument(f"W_enc must have shape [d, m] = [{d}, {m}], got {W_enc.shape}")
    k = check_count("cap k", k)
    act = np.asarray(active, dtype=bool)
    C = cosine_table(W_dec, V)  # [m, n]
    E = cosine_table(W_enc.T, V)  # [m, n]
    atoms = snap_atoms(C, cfg.cos_threshold)
    signs = sign_pattern(E, cfg.enc_threshold)
    latents = classify_latents(pmf, atoms, signs, act, C)
    obs_code = {
        ev: tuple(int(j) for j in np.flatnonzero(act[s]) if atoms[j])
        for s, ev in enumerate(pmf.events)
    }
    observed = CombinatorialSAE.free(pmf.n, atoms, {e: a for e, a in obs_code.items() if a})
    observed_eval = observed.evaluate(pmf)
    code = best_response_code(pmf, atoms, int(k))
    best = best_eval = None
    if code is not None:
        best = CombinatorialSAE.free(pmf.n, atoms, code)
        best_eval = best.evaluate(pmf, k=int(k))
    bias = 0
    if b_dec is not None:
        proj = np.asarray(b_dec, dtype=np.float64) @ V.T  # [n]
        bias = int(sum(1 << i for i in np.flatnonzero(proj > cfg.cos_threshold)))
    return SnappedSAE(
        pmf=pmf, k=int(k), atoms=atoms, decoder_cos=C, encoder_cos=E, encoder_signs=signs, active=act,
        latents=latents, observed_sae=observed, observed_eval=observed_eval, best_sae=best, best_eval=best_eval,
        bias_concepts=bias,
    )


def firing_pattern(model: Any, dgp: Any, tol: float = ACTIVE_TOL) -> np.ndarray:
    """[N, m] bool: which latents of a single-SAE model (B = 1) fire on each support point x(S), in float64
    inference mode (BatchTopK uses its threshold, as in :func:`sae_train.evaluate.evaluate_exact`)."""
    import torch

    if getattr(model, "B", 1) != 1:
        raise InvalidArgument(f"expected a single SAE (B = 1), got B = {model.B}")
    m64 = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    m64.eval()
    with torch.no_grad():
        X = torch.from_numpy(np.ascontiguousarray(dgp.support_points()))
        f = m64(X, training=False).latents[0]  # [N, m]
    return (f.abs() > tol).numpy()


def snap_model(model: Any, dgp: Any, k: int, config: SnapConfig | None = None) -> SnappedSAE:
    """Snap a loaded single-SAE model (:func:`sae_train.io.load_sae`) on its DGP."""
    cfg = config or SnapConfig()
    act = firing_pattern(model, dgp, cfg.active_tol)
    return snap(
        dgp.pmf,
        model.W_dec[0].detach().cpu().double().numpy(),
        model.W_enc[0].detach().cpu().double().numpy(),
        dgp.V,
        act,
        k,
        cfg,
        b_dec=model.b_dec[0].detach().cpu().double().numpy(),
    )


__all__ = [
    "KINDS",
    "LatentKind",
    "LatentStructure",
    "SnapConfig",
    "SnappedSAE",
    "best_response_code",
    "classify_latents",
    "firing_pattern",
    "sign_pattern",
    "snap",
    "snap_atoms",
    "snap_model",
]

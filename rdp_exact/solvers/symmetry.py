"""Concept automorphisms of a pmf and their action on candidate atoms (docs/solvers-scale.md).

A permutation σ of the concepts is an *automorphism* of π when π(σ(S)) = π(S) for every event S (probabilities
compared to a relative 1e-12, so that products computed in another order still match). Every query value (D, R,
P) of an atom set T equals that of σ(T) = {σ(A) : A ∈ T}, so a search may explore one set per orbit.

:func:`automorphisms` enumerates the group by backtracking over concept images, refined by invariants
(marginal, sorted pair co-occurrences, event-size profile) and pruned by pair co-occurrence consistency; every
complete candidate is verified on the whole event multiset. When the group is larger than ``max_elements`` the
pointwise stabiliser of the first j concepts (smallest j that fits) is returned instead — still a group, so
still valid for symmetry breaking, only weaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdp_exact.pmf import ConceptPMF

#: Relative tolerance for equal probabilities.
PROB_RTOL = 1e-12
#: Default cap on enumerated group elements.
MAX_ELEMENTS = 4096


@dataclass(frozen=True)
class ConceptGroup:
    """A group of concept permutations (explicit element list)."""

    perms: np.ndarray
    """[|G|, n] int64: element g maps concept i to perms[g, i]; row 0 is the identity."""
    full: bool
    """Whether this is the whole automorphism group (False: a pointwise stabiliser subgroup)."""
    fixed_prefix: int
    """Number of leading concepts fixed pointwise (0 when ``full``)."""

    @property
    def order(self) -> int:
        return int(self.perms.shape[0])

    def act_on_masks(self, masks: np.ndarray) -> np.ndarray:
        """Images of bitmasks under every element: [|G|, len(masks)] (int32 for n ≤ 30, else int64)."""
        masks = np.asarray(masks, dtype=np.int64)
        n = self.perms.shape[1]
        dt = np.int32 if n <= 30 else np.int64
        out = np.zeros((self.order, masks.size), dtype=dt)
        byte = np.arange(256, dtype=np.int64)
        for lo in range(0, n, 8):
            hi = min(lo + 8, n)
            # table[g, b] = image of the bits lo..hi−1 given by byte b
            table = np.zeros((self.order, 256), dtype=np.int64)
            for i in range(lo, hi):
                table |= ((byte[None, :] >> (i - lo)) & 1) << self.perms[:, i : i + 1]
            out |= table.astype(dt)[:, (masks >> lo) & 255]
        return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= PROB_RTOL * max(abs(a), abs(b), 1e-300)


def automorphisms(pmf: ConceptPMF, *, max_elements: int = MAX_ELEMENTS) -> ConceptGroup:
    """The concept automorphism group of ``pmf`` (or a pointwise stabiliser subgroup of at most
    ``max_elements`` elements; see module docstring)."""
    n = pmf.n
    probs = np.asarray(pmf.probs, dtype=np.float64)
    events = [int(e) for e in pmf.events]
    ind = pmf.indicator.astype(np.float64)
    co = (ind * probs[:, None]).T @ ind  # [n, n]
    sizes = ind.sum(axis=1)
    # invariants per concept: marginal, sorted off-diagonal co-occurrences, mass per event size
    prof = np.stack([(ind[:, i] * probs) @ (sizes[:, None] == np.arange(n + 1)[None, :]) for i in range(n)])
    scale = max(float(co.max()), 1e-300)

    def q(x: float) -> int:
        return int(round(x / scale * 1e9))

    inv = []
    for i in range(n):
        off = sorted(q(co[i, j]) for j in range(n) if j != i)
        inv.append((q(co[i, i]), tuple(off), tuple(q(v) for v in prof[i])))
    classes = [[j for j in range(n) if inv[j] == inv[i]] for i in range(n)]

    def enumerate_with_prefix(fix: int, cap: int) -> list[list[int]] | None:
        out: list[list[int]] = []
        img = [-1] * n
        used = [False] * n

        def consistent(i: int, j: int) -> bool:
            for a in range(i):
                if not _close(co[a, i], co[img[a], j]):
                    return False
            return _close(co[i, i], co[j, j])

        ev_arr = np.asarray(events, dtype=np.int64)
        order_ev = np.argsort(ev_arr)
        sorted_ev = ev_arr[order_ev]

        def verify() -> bool:
            im = np.zeros(ev_arr.size, dtype=np.int64)
            for c in range(n):
                im |= ((ev_arr >> c) & 1) << img[c]
            pos = np.minimum(np.searchsorted(sorted_ev, im), ev_arr.size - 1)
            if not np.array_equal(sorted_ev[pos], im):
                return False
            q_img = probs[order_ev[pos]]
            return bool(np.all(np.abs(q_img - probs) <= PROB_RTOL * np.maximum(np.abs(probs), 1e-300)))

        def rec(i: int) -> bool:
            if i == n:
                if verify():
                    out.append(list(img))
                    if len(out) > cap:
                        return False
                return True
            choices = [i] if i < fix else classes[i]
            for j in choices:
                if used[j] or not consistent(i, j):
                    continue
                img[i] = j
                used[j] = True
                ok = rec(i + 1)
                used[j] = False
                img[i] = -1
                if not ok:
                    return False
            return True

        return out if rec(0) else None

    for fix in range(n + 1):
        els = enumerate_with_prefix(fix, max_elements)
        if els is not None:
            ident = list(range(n))
            els.sort(key=lambda g: g != ident)  # identity first
            return ConceptGroup(np.asarray(els, dtype=np.int64).reshape(len(els), n), fix == 0, fix)
    raise AssertionError("the trivial group always fits")  # pragma: no cover


def atom_action(group: ConceptGroup, atoms: np.ndarray) -> np.ndarray | None:
    """[|G|, M] int32: element g maps candidate atom index a to index out[g, a]; None when the candidate set
    is not closed under the group (cannot happen for helpful-atom candidates of an automorphism group)."""
    atoms = np.asarray(atoms, dtype=np.int64)
    if atoms.size == 0:
        return np.zeros((group.order, 0), dtype=np.int32)
    img = group.act_on_masks(atoms)
    n = group.perms.shape[1]
    inv = np.full(1 << n, -1, dtype=np.int32)  # bitmask → candidate index
    inv[atoms] = np.arange(atoms.size, dtype=np.int32)
    idx = inv[img]
    if (idx < 0).any():
        return None
    return idx

"""Exact branch-and-bound over atom sets for the free-class min-distortion query D*_k (DESIGN §1.2, §1.4).

Scope (:func:`applies`): free encoder (threshold encoder with P_dec, see "Threshold class"), integer
coefficients, ``minimize="distortion"`` (budgets allowed, see "Budgets"), every support probability above
:data:`MIN_PROB`. The canonical tie-break (min R, then min P over
the atoms the code uses, DESIGN §1.4) is resolved exactly by the same search.

**Search.** Candidate atoms are those helpful on some event (2|A∩S| > |A|,
:func:`~rdp_exact.solvers.candidates.candidate_atoms`); a lexicographic optimum never uses another. Atom sets
T (|T| ≤ m) are enumerated depth first, each exactly once: a node is a chosen set F with an ordered list C of
allowed atoms, its i-th child is F ∪ {C_i} with allowed list C_{i+1..}. Per event the node keeps the keyed
error κ_F(S) = err·(k+1) + |Q| of its lexicographically best pattern Q ⊆ F (|Q| ≤ k), and, for every allowed
A, the best key of the patterns {A} ∪ Q_F (Q_F ⊆ F, |Q_F| ≤ k − 1), so the exact D of every child
F ∪ {A} is one vectorised minimum (err(S, Q ∪ {A}) = ‖ρ‖² − 2⟨1_A, ρ⟩ + |A| with ρ = 1_S − c_Q).

**Bound (why pruning is exact).** Let e_F(S) be the error of F on S and U the atoms a descendant adds
(|U| ≤ r = m − |F|). On each event the best pattern of F ∪ U can be taken irreducible, so it contains only
atoms helpful on S. If it has one new atom A, the improvement over e_F(S) is at most
c_S(A) ≥ e_F(S) − min_{Q_F} err(S, Q_F ∪ {A}) (exact); if it has j ≥ 2 new atoms, split the improvement
equally among them: each gets ≤ ½·(e_F(S) − |A∖S|), because every concept of A outside S keeps error ≥ 1.
So with c_S(A) = max(exact single term, ½·(e_F(S) − |A∖S|))⁺ (0 where A is not helpful on S; no ½ term
for k = 1), the improvement on S is ≤ min(e_F(S), Σ_{A∈U} c_S(A)) and, for any μ ∈ [0,1]^N,

    D(F ∪ U) ≥ D(F) − Σ_S π_S (1 − μ_S) e_F(S) − Σ_{A∈U} w_μ(A),   w_μ(A) = Σ_S π_S μ_S c_S(A),

since min(a, b) ≤ (1 − μ)a + μb. μ is tuned per node by a few projected subgradient steps (any μ is
valid). With the children ordered by w_μ descending, child i's bound is D(F) − Σπ(1−μ)e_F − w_i − (w_{i+1}
+ … + w_{i+r−1}) (combined with the Lagrangian's below).

**Pair filter.** Every bound family (base, w) of a node bounds all completions, D(F ∪ U) ≥ base − Σ_{A∈U} w_A,
so before child F ∪ {a} is searched an allowed atom b is dropped when base − w_a − w_b − (the r − 2 largest
other w) exceeds the incumbent plus the tie tolerance: b is then in no completion within the tolerance
(:meth:`_Search._pair_filter`; children with ≥ :data:`PAIR_FILTER_MIN_ATOMS` atoms).

**Exact pair credits** (k = 2, r ≥ 3, :data:`EXACT_PAIRS`). At the node's λ the pattern b + c of two new atoms is
a facility of its own, g(b, c) = Σ_S (λ_S − π_S |1_S − b − c|²)⁺, so D(F ∪ U) ≥ Σ_S min(λ_S, π_S e_F(S)) −
Σ_{b∈U} w_λ(b) − Σ_{{b,c}⊆U} g(b, c); child a charges the pairs without a half to each atom (the r − 2 largest g
of each) and is bounded by base − w_λ(a) − (the r − 1 largest w_λ(b) + g(a, b) + ½ G(b) over its later atoms)
(:meth:`_Search._exact_pair_windows`; where ≥ :data:`EXACT_PAIRS_MIN_OPEN` children stay open). At r = 3 only
the open children's rows of the table are built, and a partner's charge ½ max_c g(b, c) is bounded by
½ max_{v ⊇ b} g_λ(v) over the 0/1 vectors (g(b, c) ≤ g_λ(b ∨ c): the vector b ∨ c is no farther than b + c from
any 0/1 target), from :data:`EXACT_PAIR_ROWS_MIN_OPEN` open children (:data:`EXACT_PAIR_ROWS`). With the same
terms child a's allowed atoms are filtered: b stays only if base − w_λ(a) − v_a(b) − (the r − 2 largest other v_a)
can beat the incumbent (:data:`EXACT_PAIR_FILTER`).

**Screen** (:data:`SCREEN_R`). A child with two atoms left is first passed to one compiled call that runs its
visit's first steps (its children's errors, the Lagrangian from the parent's λ, the order-free bounds of its
children); it is visited only when those cannot prune it or one of its children is within the tie tolerance
(:meth:`_Search._screen`).

**Lagrangian bound (issue 15; default ``bound="lagrange"``).** At the root and at nodes with r ≥ 2 a
facility-location Lagrangian is also computed: one facility per new atom A (its exact patterns with F, cost
e_{F∪A}) and p₂ free 0/1 vectors for patterns with ≥ 2 new atoms; for λ ∈ [0, π·e_F],
D(F ∪ U) ≥ Σ_S min(λ_S, π_S e_F(S)) − Σ_{A∈U} w_λ(A) − top-p₂ g_λ(v) (docs/solvers-scale.md). For k = 2
(:data:`CHARGE`) the pair term is charged to the atoms instead: replacing A + B by A ∨ B and splitting each
distinct pair vector's credit between its two atoms, D(F ∪ U) ≥ Σ_S min(λ_S, π_S e_F(S)) − Σ_{A∈U} [w_λ(A) +
½ G_λ(A)] with G_λ(A) the r − 1 largest g_λ(v) over 0/1 vectors v ⊋ A
(:func:`rdp_exact.solvers.bnb_kernel._superset_charge`). In a fixed order child i allows only later atoms,
so each bound family (base, w) gives it base − w_i − (the r − 1 largest later w); a child gets the larger
of the families' bounds, in whichever family's order leaves fewer children open, and the loop stops where
the suffix minimum of these bounds exceeds the incumbent. Up to n = :data:`LEGACY_BESIDE_LAGRANGE_MAX_N` the
μ bound is a second family at the nodes that tune the Lagrangian; above it those nodes use the Lagrangian
alone (measured cheaper). An atom whose order-free child bound exceeds the
incumbent leaves the allowed lists of the whole subtree. The tuning, the μ bound, the pattern keys and the
children's D run compiled (:mod:`rdp_exact.solvers.bnb_kernel`, numba, float64).

**Root fixing (issue 15; option ``rank_one``, default ``auto``: from :data:`RANK_ONE_MIN_ATOMS` candidate
atoms).** After the local search, the rank-one column LP of :mod:`rdp_exact.solvers.rank_one` (the usage
model's relaxation solved by column generation, its Lagrangian valid for any multipliers) runs for at most
min(:data:`RANK_ONE_SHARE` × limit, :data:`RANK_ONE_MAX_S`) and drops every candidate atom A whose forced bound
L_A exceeds incumbent + TOL, with its whole orbit under the automorphisms: such an atom is in no set with
D ≤ D* + TOL, so the records of the tie-break and the answer are unchanged. If at most
:data:`RANK_ONE_MU_ATOMS` atoms remain, the search uses the μ bound (as strong there, far cheaper per node).
The LP's bound also joins the root bound and the bound reported on a time limit.

**Rank-one terms at every node** (:data:`RANK_ONE_FAMILY`). The LP's Lagrangian at its best multipliers is
D(T) ≥ const + Σ_{A∈T} ρ(A) for every atom set T (ρ ≤ 0 per atom, :meth:`~rdp_exact.solvers.rank_one.RankOneLP.
terms`), so at a node F with allowed atoms C, (base, w) = (const + Σ_{A∈F} ρ(A), −ρ|_C) is one more bound family
(D(F ∪ U) ≥ base − Σ_{A∈U} w(A)), computed in O(|C|). On ``random:n=10,support=64``, m = 5 it is the strongest
family by far (root 1.54 against the facility Lagrangian's 1.03, D ≤ 1.7425; on the benchmark's ``seed=1``
instance the bound after 600 s on two workers rose from 0.91 to 1.34, bench-results/bench_scale.md). Option ``rank_one_depth`` (default :data:`RANK_ONE_FORCE_DEPTH`) re-solves the
LP with the chosen atoms forced in at the nodes of depth 1 … d (:func:`~rdp_exact.solvers.rank_one.forced_terms`)
and hands the new terms to the node's subtree (and to the worker tasks below it).

**Parallel search** (``threads``, default: the usable cores): the subtrees below a split depth run in forked
worker processes that share the incumbent (:mod:`rdp_exact.solvers.bnb_parallel`, where the argument that the
answer is the serial one is written out).

**Symmetry.** Concept automorphisms of π (:mod:`rdp_exact.solvers.symmetry`) act on the candidate atoms; a
node only branches on the first child of each orbit of the group fixing its chosen and excluded atoms, and
excludes earlier orbits entirely (orbital branching). The tie-break below then takes the least image of the
recorded sets over the group.

**Tie-break.** Every visited set with D ≤ incumbent + TOL is recorded when *valid*: one code choosing a
lexicographically best (error, size) pattern on every event uses all its atoms (checked by a small dynamic
programme over events). Pruned subtrees only hold sets with D > incumbent + TOL, so the records contain every
set with D ≤ D* + TOL; the answer is min R among them, then min P (P = mean of 1 − 1/√|A| over the set) among
those with R ≤ R* + TOL — the order and tolerances of :mod:`rdp_exact.solvers.mip_lex`. Because every
probability exceeds TOL, a code that is not per-event (error, size)-optimal over its own atoms changes D or R
by more than TOL, so these codes are the only candidates. An invalid set is represented by its used subset,
which is itself enumerated.

**Budgets.** The search's object is the set of atom sets with their per-event optimal codes, ordered
lexicographically by (D, R, P). A distortion budget δ enters as a cutoff: the search starts as if an
incumbent of value δ + TOL were known, so every subtree whose bound exceeds δ + TOL is pruned and only sets
with D ≤ δ + TOL are recorded. The answer is the canonical optimum over {D ≤ δ + TOL} — exact, because the
budget only removes sets with larger D — and a completed search that records no set proves the query
infeasible. Rate and poly budgets are constraints on the code and on the live atoms, not on D, so they do not
prune: the canonical optimum x* without them is computed and checked. If x* meets them it is the budgeted
optimum (the lexicographic optimum over X that lies in the subset X′ ⊆ X is the lexicographic optimum over
X′). If it does not, no SAE with D ≤ D* + TOL meets a rate budget (x*'s R is the least among them), but a
poly budget may still be met by a D-tie with a larger R, so the method does not answer: status ``limit``,
bound D* (a valid lower bound on the budgeted D*), ``info.budget_binds`` saying why.

**Threshold class** (``encoder="threshold"``, only with P = P_dec, ``poly="decoder"``; n small enough to
enumerate threshold units). Every threshold SAE is a free SAE with the same D and R once duplicate latents
are merged (two latents with one atom never fire together on a D-optimal SAE: 2A is farther from a 0/1
target than A), so the free search gives D*_free ≤ D*_thr and, at equal D, R*_free ≤ R*_thr. When every
latent's firing set in the free canonical code is realised by a threshold unit (ternary or binary weights,
θ ≥ 1), the realised SAE attains both, so D and R are proven. Duplicates can dilute P_dec (a mean over live
latents), so P is proven only when no D, R-tie T padded with copies of its lightest atom up to m latents,
(Σ_T w + (m − |T|)·min_T w)/m, is below the answer's P; otherwise the status is ``limit`` with D and R
proven. A code that is not realisable: status ``limit``, bound D*_free. The encoder term of P_joint is not
part of the search, so the default ``poly="joint"`` is out of scope.

**Limits.** On a time limit the status is ``limit``; the bound is min(incumbent, the smallest pending child
bound on the DFS stack), a valid lower bound on D*.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import TOL, Problem, Solution, Status, relative_gap, within_budgets
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers import bnb_parallel
from rdp_exact.solvers.bnb_state import FLOAT_SLACK
from rdp_exact.solvers.bnb_state import Stats as _Stats
from rdp_exact.solvers.bnb_state import Timeout as _Timeout
from rdp_exact.solvers.bnb_state import TooManyTies as _TooManyTies
from rdp_exact.solvers.brute import _version  # the rdp package version: this method ships with rdp
from rdp_exact.solvers.candidates import candidate_atoms, poly_weight
from rdp_exact.solvers.info import BnbInfo, from_mapping
from rdp_exact.solvers.symmetry import atom_action, automorphisms

log = logging.getLogger(__name__)

#: Smallest support probability for which per-event optimal codes are the only D/R-ties (see module doc).
MIN_PROB = 10 * TOL
#: Largest (candidate atoms × events) table the search allocates.
MAX_CELLS = 40_000_000
#: Largest n (all 2^n − 1 atoms are screened).
MAX_N = 16
#: Subgradient iterations for μ at nodes with r ≥ 2 remaining atoms (legacy bound).
MU_ITERS = 8
#: Subgradient iterations for the Lagrangian multipliers λ: root, inner nodes (r ≥ LAG_MIN_R; below, the μ bound),
#: and inner nodes at n ≤ LAG_ITERS_SMALL_MAX_N (benchmarks/bench_tuning.py: 40 against 25 gave `random` n = 8–10
#: 2–12 % fewer nodes and 1.02–1.08× less time, the sampled n = 12 ``hier`` pmf 0.90×).
LAG_ITERS_ROOT = 60
LAG_ITERS = 25
LAG_ITERS_SMALL = 40
LAG_ITERS_SMALL_MAX_N = 10
#: k = 2: charge the pair term to the atoms (½ of the r − 1 largest g_λ over proper supersets) instead of top-p₂
#: free vectors (the root bound rises, e.g. 0.58 → 0.70 of D* = 0.99 on a chain-structured n = 12 pmf).
CHARGE = True
#: Nodes with at least this many atoms left tune the Lagrangian (r = 1 nodes use the μ bound only). Measured in
#: benchmarks/bench_lag_depth.py: from 3 to 2, the sampled ``blocks`` pmf needs 16 k nodes instead of 36 k
#: (1.34× faster), ``pairs12`` 1.07×, ``chain`` 0.96× (same nodes), ``hier`` 0.86×.
LAG_MIN_R = 2
#: Largest n at which nodes that tune the Lagrangian also compute the μ bound as a second family (0: never). At
#: n = 12 it cost more than it pruned (benchmarks/bench_parallel.py, "serial / before": ``blocks``, ``hier``,
#: ``pairs12`` faster without it, with 0–16 % more nodes); beside the exact pair credits and the screen it does
#: at n ≤ 10 too (benchmarks/bench_subtrees.py: ``random`` n = 10, m = 5 subtrees 1.34× faster without it, 0.1 %
#: more nodes; benchmarks/bench_tuning.py: ``random`` n = 8–10 at m = 4 1.09–1.18×).
LEGACY_BESIDE_LAGRANGE_MAX_N = 0
#: Largest n at which the μ bound also tries its free-vector variant (a 2^n × N table per node): on the sampled
#: n = 12 ``chain`` pmf (μ bound after the rank-one fixing) it never won, and skipping it visits the same 8,038
#: nodes about 4× faster (benchmarks/bench_parallel.py, "serial / before").
FREE_VECTOR_MU_MAX_N = 10
#: Subgradient iterations per compiled call between two reads of the clock.
LAG_CHUNK = 5
#: Share of the time limit the root's multiplier tuning may take.
ROOT_LAG_SHARE = 0.1
#: Root reduced-cost fixing by the rank-one column LP (:mod:`rdp_exact.solvers.rank_one`): used by default from
#: this many candidate atoms (below it the search is fast anyway), for at most this share of a time limit and
#: at most this many seconds.
RANK_ONE_MIN_ATOMS = 256
#: Use the LP's terms (const, ρ) at the best multipliers as a bound family at every node (D(F ∪ U) ≥ const + Σ_F ρ
#: + Σ_U ρ), less this absolute margin for floating-point error in const and ρ.
RANK_ONE_FAMILY = True
RANK_ONE_SLACK = 1e-9
#: Child bounds with exact pair credits at nodes with r ≥ 3 atoms left (k = 2; :meth:`_Search._exact_pair_windows`):
#: the pattern b + c of two new atoms is credited exactly, not through the superset charge.
EXACT_PAIRS = True
#: ... over at most this many allowed atoms (the pair table is dense, |C|² float64) ...
EXACT_PAIRS_MAX_ATOMS = 1536
#: ... and only where the other bounds leave at least this many children open (the table costs tens of ms).
EXACT_PAIRS_MIN_OPEN = 64
#: Build the pair table through the atoms' masks (:func:`rdp_exact.solvers.bnb_kernel._pair_table_subsets`) where
#: the allowed atoms are at least 1/this of all 2^n masks; otherwise by the key-sorted scan. Same table; on
#: ``random:n=10,support=64`` (|C| ≈ 980 of 1,023) 9–14 ms against 20–25 ms per table, subtrees at m = 5 1.08×
#: (benchmarks/bench_subtrees.py).
EXACT_PAIRS_SUBSET_SHARE = 2
#: At nodes with r = 3 atoms left, the exact pair credits of the open children only
#: (:func:`rdp_exact.solvers.bnb_kernel.exact_pair_rows`: their rows of the table, the partners' charges through
#: the 0/1 vectors), where at least EXACT_PAIR_ROWS_MIN_OPEN children stay open: ~1 ms where the whole table
#: costs 10–25 ms at |C| ≈ 1,000, so they pay at far fewer open children.
EXACT_PAIR_ROWS = True
EXACT_PAIR_ROWS_MIN_OPEN = 4
#: Where the exact pair credits ran, also filter each child's allowed atoms with them
#: (:func:`rdp_exact.solvers.bnb_kernel.exact_pair_filter`).
EXACT_PAIR_FILTER = True
#: Default of the option ``rank_one_depth``: re-solve the LP with the chosen atoms forced in at the nodes with
#: 1 … this many chosen atoms (in the coordinating process of a parallel search; workers use the terms they are
#: handed), each for at most RANK_ONE_FORCE_S seconds, where at least RANK_ONE_FORCE_MIN_ATOMS atoms are allowed.
#: Off by default: on ``random:n=10,support=64``, m = 5 (600 s, two workers) depth 1 spent 199 s in 82 re-solves
#: and ended at bound 1.598 against 1.591 without; at depth 2 one re-solve lifts a node to 1.82–1.90 (above
#: D* = 1.7425, where the root duals' terms give 1.71–1.73) but takes 0.85–1.2 s, more than the subtree it prunes.
RANK_ONE_FORCE_DEPTH = 0
RANK_ONE_FORCE_S = 2.0
RANK_ONE_FORCE_MIN_ATOMS = 64
RANK_ONE_SHARE = 0.15
RANK_ONE_MAX_S = 3.0
#: After a fixing that leaves at most this many atoms the search uses the μ bound (on the sampled ``chain``
#: family, with a few dozen atoms left, it visits the same ≈ 8 k nodes as the Lagrangian at a fraction of the per-node cost;
#: with thousands of atoms the μ bound is the slower one; docs/solvers-scale.md).
RANK_ONE_MU_ATOMS = 128
#: Local-search restarts without improvement before the incumbent search stops early.
MAX_STALE_RESTARTS = 15
#: Children with this many atoms left are first screened by one compiled call (:meth:`_Search._screen`) and
#: visited only when the screen cannot prune them (0: no screen).
SCREEN_R = 2
#: Subgradient iterations of the screen's Lagrangian (from the parent's λ).
SCREEN_LAG_ITERS = 25
#: Screen all children of a node in one compiled call (:meth:`_Search._screen_children`; k = 2, no symmetry)
#: instead of one call per child from the visit loop: the same skips, without the loop's per-child Python work
#: (benchmarks/bench_subtrees.py: ``random`` n = 10, m = 5 subtrees 1.24×).
FUSED_SCREEN = True
#: Filter each child's allowed atoms by its parent's bound families with the child's atom in the set
#: (:meth:`_Search._pair_filter`).
PAIR_FILTER = True
#: ... for children with at least this many allowed atoms (measured with the filter in NumPy: below, its fixed
#: cost per child exceeded what it saved in the child's per-atom passes; `chain` ran 0.93× without the gate).
PAIR_FILTER_MIN_ATOMS = 128
#: ``auto``'s fallback range (used only when bench-results/solver_choice.json has no measurement for the
#: query kind, see :mod:`rdp_exact.solvers.auto`): below n = 5 the MILP and brute force finish in well under a
#: second; from n = 5 to 16 the branch-and-bound proved every min-D instance the plain MILP proved, faster
#: (bench-results/bench_scale.md, docs/solvers-scale.md).
AUTO_N_RANGE = (5, 16)
#: The fallback rule, as recorded beside the measurements in bench-results/solver_choice.json.
CHOICE_RULE = (
    "brute force where affordable; else the fastest method that proved the nearest measured row of the query's "
    "kind (largest measured n ≤ the query's n); without such a row: bnb for free-class integer min D without "
    "rate/poly budgets, every probability > 1e-8 and 5 ≤ n ≤ 16, otherwise the integer program (highs)"
)
#: Recorded near-optimal sets before the tie-break is declared unaffordable.
MAX_RECORDS = 200_000
#: Largest |G|·M table of the concept-automorphism action on candidate atoms (int32 entries).
MAX_GROUP_CELLS = 32_000_000
NAME = "bnb"
#: Largest number of threshold units (3^n ternary, 2^n binary) enumerated to realise a code (threshold class).
MAX_THRESHOLD_UNITS = 3**9


#: The exact pair terms a node hands to its children's filters: (base, w, vb, g, the row of g of each child, −1
#: for none) (:meth:`_Search._exact_pair_windows`).
PairTerms = tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def preferred(problem: Problem) -> bool:
    """``auto``'s fallback: applicable, no rate or poly budget (they may bind, and then this method declines)
    and n in :data:`AUTO_N_RANGE`."""
    if problem.max_rate is not None or problem.max_poly is not None or problem.encoder != "free":
        return False
    return applies(problem) and AUTO_N_RANGE[0] <= problem.pmf.n <= AUTO_N_RANGE[1]


def applies(problem: Problem) -> bool:
    """Whether :func:`solve` handles ``problem`` (scope in the module docstring)."""
    pmf = problem.pmf
    if problem.coefficients != "integer" or problem.minimize != "distortion":
        return False
    if problem.encoder == "threshold":
        # only with P = P_dec (the encoder term of P_joint is not part of the search), and while the firing
        # patterns of threshold units can be enumerated
        base = 2 if problem.encoder_weights == "binary" else 3
        if problem.poly_measure != "decoder" or base**pmf.n > MAX_THRESHOLD_UNITS:
            return False
    elif problem.encoder != "free":
        return False
    if pmf.n > MAX_N or float(np.min(pmf.probs)) <= MIN_PROB:
        return False
    return ((1 << pmf.n) - 1) * pmf.support_size <= MAX_CELLS


@dataclass
class _Record:
    D: float
    R: float
    P: float
    atoms: tuple[int, ...]
    """Atom bitmasks, sorted."""
    code: dict[int, tuple[int, ...]]


def _stack_families(families: list[tuple[float, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Bound families (base, w) as (bases [f], W [f, children]) in float64 for the compiled kernels."""
    bases = np.array([float(b) for b, _ in families])
    W = np.empty((len(families), families[0][1].size if families else 0))
    for f, (_b, w) in enumerate(families):
        W[f] = w
    return bases, W


class _Search:
    """Depth-first branch-and-bound (see module docstring)."""

    def __init__(
        self,
        problem: Problem,
        deadline: float | None,
        node_limit: int | None = None,
        bound: str = "lagrange",
        cutoff: float | None = None,
    ) -> None:
        """``cutoff``: a distortion budget δ; only sets with D ≤ δ + TOL count as incumbents or records, and
        every subtree whose bound exceeds δ + TOL is pruned from the start (as if an incumbent of that value
        were known)."""
        pmf = problem.pmf
        self.bound = bound
        #: Seconds one node may spend tuning λ (the root gets more, see :func:`solve`).
        self.lag_budget_s = math.inf
        #: Seconds the root's λ tuning may take.
        self.root_budget_s = math.inf
        self._vec_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.problem = problem
        self.n, self.m, self.k = pmf.n, problem.width, problem.k
        self.K1 = self.k + 1
        self.deadline = deadline
        self.node_limit = node_limit
        self.pi = np.asarray(pmf.probs, dtype=np.float64)
        self.events = np.asarray(pmf.masks, dtype=np.int64)
        self.N = self.events.size
        self.t = pmf.indicator.astype(np.float32)  # [N, n]
        self.sizes = pmf.sizes.astype(np.int64)
        self.atoms = candidate_atoms(pmf, helpful_only=True)
        self.M = self.atoms.size
        #: Candidate atoms before any root fixing (:meth:`restrict`): the size of the search's universe.
        self.M0 = self.M
        self.bits = ((self.atoms[:, None] >> np.arange(self.n)) & 1).astype(np.float32)  # [M, n]
        self.asize = self.bits.sum(axis=1).astype(np.int64)
        from rdp_exact.solvers.bnb_kernel import popcount_table

        self.pc = popcount_table(self.n)
        inter = np.rint(self.bits @ self.t.T).astype(np.int64)  # [M, N]
        self.err1 = (self.asize[:, None] + self.sizes[None, :] - 2 * inter).astype(np.int32)
        self.outside = (self.asize[:, None] - inter).astype(np.int32)
        self.helpful = 2 * inter > self.asize[:, None]
        if self.k >= 2:
            vecs = np.arange(1 << self.n, dtype=np.int64)
            vb = ((vecs[:, None] >> np.arange(self.n)) & 1).astype(np.float32)
            self.hamming = (vb.sum(1)[:, None] + self.sizes[None, :] - 2.0 * (vb @ self.t.T)).astype(np.float32)
        self.weight = np.array([poly_weight(int(s)) for s in self.asize.tolist()]) if self.M else np.zeros(0)
        #: The rank-one LP's bound terms (:meth:`rank_one_fixing`): D(T) ≥ r1_const + Σ_{A∈T} r1_rho[A] for every
        #: atom set T (|T| ≤ m), a bound family at every node; None when the LP did not run.
        self.r1_const = -math.inf
        self.r1_rho: np.ndarray | None = None
        #: The root's rank-one LP (re-solved at the nodes of depth ≤ RANK_ONE_FORCE_DEPTH) and this search's atom
        #: index → the LP's atom index.
        self.r1_lp: Any = None
        self.r1_idx: np.ndarray | None = None
        self.r1_depth = RANK_ONE_FORCE_DEPTH
        self.gperm: np.ndarray | None = None
        self.group: Any = None
        self.group_order = 1
        self.best = math.inf if cutoff is None else float(cutoff) + TOL + FLOAT_SLACK
        #: Largest D a recorded set may have (δ + TOL under a distortion budget).
        self.d_cap = math.inf if cutoff is None else float(cutoff) + TOL + FLOAT_SLACK
        self.best_set: tuple[int, ...] = ()
        #: Whether ``best`` is the D of a visited set (False while it is only the budget's cutoff).
        self.found = cutoff is None
        self.records: list[tuple[float, tuple[int, ...]]] = []
        self.stack_lb: list[float] = []
        self.path_lb: list[float] = []
        """Node bound of each node on the DFS path (valid for all its descendants)."""
        self.root_entered = False
        self.interrupt_bound: float | None = None
        self.stats = _Stats()
        #: After :meth:`tie_break`: the valid records tied in D and R (one per orbit at least).
        self.dr_ties: list[_Record] = []
        #: The D of ``best_set`` (``best`` may be lower: an incumbent another worker found, read from ``shared``).
        self.best_set_D = math.inf
        #: Parallel search (:mod:`rdp_exact.solvers.bnb_parallel`): the incumbent D shared by all workers
        #: (a ``multiprocessing.Value``), and a hook that takes the subtrees at depth ``split_depth`` as tasks.
        self.shared: Any = None
        self.emit: Any = None
        self.split_depth = -1

    # ------------------------------------------------------------------ helpers
    def _check_time(self) -> None:
        if self.shared is not None:
            self.sync()
        if self.node_limit is not None and self.stats.nodes >= self.node_limit:
            self.interrupt_bound = self.global_bound()
            raise _Timeout
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.interrupt_bound = self.global_bound()
            raise _Timeout

    def sync(self) -> None:
        """Read the shared incumbent (parallel search): a lower D found by another worker prunes here too."""
        other = float(self.shared.value)
        if other < self.best:
            self.best = other
            self.found = True

    def publish(self) -> None:
        """Lower the shared incumbent to this worker's ``best`` (parallel search)."""
        with self.shared.get_lock():
            if self.best < self.shared.value:
                self.shared.value = self.best

    def _pattern_keys(self, Q: tuple[int, ...], cand: np.ndarray) -> np.ndarray:
        """Keyed errors of {A} ∪ Q for every A in ``cand`` (atom indices) [|cand|, N]."""
        out = np.full((cand.size, self.N), np.iinfo(np.int32).max, dtype=np.int32)
        self._min_pattern_keys(out, Q, cand)
        return out

    def _min_pattern_keys(self, out: np.ndarray, Q: tuple[int, ...], cand: np.ndarray) -> None:
        """out ← min(out, keyed errors of {A} ∪ Q for A in ``cand``), compiled (integer popcounts)."""
        from rdp_exact.solvers import bnb_kernel as bk

        rho = self.t.astype(np.int64) - self.bits[list(Q)].astype(np.int64).sum(axis=0)[None, :] if Q else None
        sq = (rho * rho).sum(axis=1) if rho is not None else self.sizes
        masks = self.atoms[cand]
        sub = np.zeros(cand.size, dtype=np.int64)
        for B in Q:
            sub += self.pc[masks & self.atoms[B]]
        bk.pattern_keys_min(out, masks, self.asize[cand], self.events, np.ascontiguousarray(sq, dtype=np.int64),
                            sub, self.pc, self.K1, len(Q))

    def _subsets(self, F: tuple[int, ...], size_max: int) -> list[tuple[int, ...]]:
        return [Q for s in range(0, min(size_max, len(F)) + 1) for Q in itertools.combinations(F, s)]

    def _keys_from_scratch(self, F: tuple[int, ...], cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(κ_F [N], best key of {A} ∪ Q_F for A in cand [|cand|, N])."""
        kF = (self.sizes * self.K1).astype(np.int32)
        for Q in self._subsets(F, self.k):
            if not Q:
                continue
            c = self.bits[list(Q)].sum(axis=0)
            err = np.rint(((self.t - c[None, :]) ** 2).sum(axis=1)).astype(np.int32)
            kF = np.minimum(kF, err * self.K1 + len(Q))
        kb = np.full((cand.size, self.N), np.iinfo(np.int32).max, dtype=np.int32)
        for Q in self._subsets(F, self.k - 1):
            self._min_pattern_keys(kb, Q, cand)
        return kF, kb

    def _D(self, keys: np.ndarray) -> np.ndarray:
        return (keys // self.K1) @ self.pi

    def _offer(self, F: tuple[int, ...], D: float, *, record: bool = True) -> None:
        """A visited set with value D: update the incumbent and (``record``) the near-optimal records."""
        if D < self.best:
            self.best = D
            self.best_set, self.best_set_D = F, D
            self.found = True
            if self.shared is not None:
                self.publish()
            lim = self.best + TOL + FLOAT_SLACK
            self.records = [r for r in self.records if r[0] <= lim]
        if record and D <= self.best + TOL + FLOAT_SLACK:
            self.records.append((D, F))
            if len(self.records) > MAX_RECORDS:
                raise _TooManyTies

    # ------------------------------------------------------------------ incumbent
    def _improve(self, F: tuple[int, ...], cur: float, deadline: float) -> tuple[tuple[int, ...], float]:
        """Greedy fill up to m atoms, then first-improvement swaps (exact D of every candidate set)."""
        allidx = np.arange(self.M)
        kF, kb = self._keys_from_scratch(F, allidx)
        while len(F) < min(self.m, self.M) and time.perf_counter() < deadline:
            D = self._D(np.minimum(kb, kF[None, :]))
            if F:
                D[list(F)] = np.inf
            a = int(np.argmin(D))
            if not D[a] < cur - FLOAT_SLACK:
                break
            # incremental: the new patterns are those containing a
            kF = np.minimum(kF, kb[a])
            for Q in self._subsets(F, self.k - 2):
                self._min_pattern_keys(kb, (a, *Q), allidx)
            F, cur = (*F, a), float(D[a])
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for j in list(F):
                G = tuple(x for x in F if x != j)
                kG, kbG = self._keys_from_scratch(G, allidx)
                D = self._D(np.minimum(kbG, kG[None, :]))
                D[list(F)] = np.inf
                a = int(np.argmin(D))
                if D[a] < cur - FLOAT_SLACK:
                    F, cur, improved = (*G, a), float(D[a]), True
                    break
                if time.perf_counter() >= deadline:
                    break
        return F, cur

    def local_search(self, budget_s: float, seed: int = 0) -> None:
        """Incumbent: greedy + swaps from the empty set, then restarts from random pairs of good atoms
        (perturbation) until the budget is spent. Only a warm start: no optimality claim."""
        t0 = time.perf_counter()
        deadline = t0 + budget_s
        empty = float(self.sizes @ self.pi)
        F, cur = self._improve((), empty, deadline)
        best_F, best = F, cur
        rng = np.random.default_rng(seed)
        single = self._D(np.minimum(self._pattern_keys((), np.arange(self.M)), (self.sizes * self.K1)[None, :]))
        pool = np.argsort(single, kind="stable")[: max(2, min(self.M, 8 * self.m))]
        restarts = stale = 0
        while time.perf_counter() < deadline and self.M > 1 and self.m > 1 and stale < MAX_STALE_RESTARTS:
            # keep a random half of the best set, add one random good atom, re-optimise
            keep = [a for a in best_F if rng.random() < 0.5]
            extra = int(rng.choice(pool))
            start = tuple(dict.fromkeys([*keep, extra]))[: self.m]
            kS, _ = self._keys_from_scratch(start, np.zeros(0, dtype=np.int64))
            F, cur = self._improve(start, float(self._D(kS)), deadline)
            restarts += 1
            stale += 1
            if cur < best - FLOAT_SLACK:
                best_F, best, stale = F, cur, 0
        if best < self.best:
            self.best = best
            self.best_set, self.best_set_D = tuple(sorted(best_F)), best
            self.found = True
        self.stats.incumbent_D = best
        self.stats.incumbent_s = time.perf_counter() - t0
        self.stats.extra["restarts"] = restarts

    # ------------------------------------------------------------------ symmetry
    def setup_symmetry(self) -> None:
        """Concept automorphisms acting on candidate atoms (orbital branching in :meth:`_visit`)."""
        if self.M == 0:
            return
        cap = max(1, min(4096, MAX_GROUP_CELLS // max(self.M, 1)))
        group = automorphisms(self.problem.pmf, max_elements=cap)
        self.stats.extra["group_order"] = group.order
        self.stats.extra["group_full"] = group.full
        if group.order <= 1:
            return
        act = atom_action(group, self.atoms)
        if act is None:  # pragma: no cover - helpful candidates are closed under automorphisms
            return
        self.group = group
        self.gperm = act
        self.group_order = group.order

    # ------------------------------------------------------------------ rank-one LP fixing
    def rank_one_fixing(self, seconds: float) -> dict[str, Any]:
        """Drop the candidate atoms that the rank-one LP (:mod:`rdp_exact.solvers.rank_one`) proves are in no
        atom set with D ≤ incumbent + TOL (with their whole orbits: an automorphism maps such a set to one);
        returns what it measured. Every set the tie-break needs survives, so the search's answer is unchanged."""
        from rdp_exact.solvers.rank_one import root_fixing

        res, keep = root_fixing(self.t, self.pi, self.bits, self.m, self.k, self.best, self.best_set, seconds,
                                TOL + FLOAT_SLACK)
        if self.gperm is not None:
            keep = keep[self.gperm].all(axis=0)
        out = {"rank_one_bound": float(res.bound), "rank_one_converged": res.converged,
               "rank_one_aborted": res.aborted,
               "rank_one_rounds": res.rounds, "rank_one_s": round(res.seconds, 3),
               "rank_one_excluded": int((~keep).sum())}
        if res.rho is not None and RANK_ONE_FAMILY:
            self.r1_const = float(res.const) - RANK_ONE_SLACK
            self.r1_rho = np.minimum(np.asarray(res.rho, dtype=np.float64), 0.0)
            if self.r1_depth > 0:
                self.r1_lp = res.lp
                self.r1_idx = np.arange(self.M)
        if not keep.all():
            self.restrict(keep)
        return out

    def restrict(self, keep: np.ndarray) -> None:
        """Keep only the candidate atoms ``keep`` (a mask closed under the symmetry group), before :meth:`run`."""
        idx = np.flatnonzero(keep)
        new_of = np.full(self.M, -1, dtype=np.int64)
        new_of[idx] = np.arange(idx.size)
        assert all(new_of[a] >= 0 for a in self.best_set), "the incumbent's atoms must be kept"
        self.best_set = tuple(sorted(int(new_of[a]) for a in self.best_set))
        self.atoms = self.atoms[idx]
        self.M = int(idx.size)
        for name in ("bits", "asize", "err1", "outside", "helpful", "weight"):
            setattr(self, name, getattr(self, name)[idx])
        if self.r1_rho is not None:
            self.r1_rho = self.r1_rho[idx]
        if self.r1_idx is not None:
            self.r1_idx = self.r1_idx[idx]
        self._vec_cache = None
        if self.gperm is not None:
            act = atom_action(self.group, self.atoms)
            assert act is not None, "a kept set closed under the group"
            self.gperm = act

    # ------------------------------------------------------------------ search
    def run(self) -> None:
        kF = (self.sizes * self.K1).astype(np.int32)
        self._offer((), float(self._D(kF)))
        cand = np.arange(self.M)
        kb = self._pattern_keys((), cand) if self.M else np.zeros((0, self.N), dtype=np.int32)
        H = None if self.gperm is None else np.arange(self.gperm.shape[0])
        self._visit((), cand, kb, kF, [], H, None)

    def _mu_bound(
        self, c: np.ndarray, eF: np.ndarray, r: int, G: np.ndarray | None, p2: int, iters: int = MU_ITERS
    ) -> tuple[float, np.ndarray, float]:
        """Best (Φ, w_μ, base_μ) over a few μ ∈ [0, 1]^N, where base_μ = Σ_S π_S (1 − μ_S) e_F(S) (+ the
        top-p2 g_μ(v) when G is given) and Φ = base_μ + top-r sum of w_μ. Any μ gives a valid bound; μ starts
        at 1, then alternates a rescaling of over-credited events (μ_S ← μ_S·min(1, e_F(S)/credit_S)) with
        projected subgradient steps."""
        pe = self.pi * eF
        mu = np.ones(self.N)
        best: tuple[float, np.ndarray, float] | None = None
        rr = min(r, c.shape[0])
        for it in range(iters):
            pm = self.pi * mu
            w = c @ pm
            top = np.argpartition(-w, rr - 1)[:rr] if rr < w.size else np.arange(w.size)
            base = float(pe @ (1.0 - mu))
            credit = c[top].sum(axis=0)
            if G is not None and p2 > 0:
                g = G @ pm
                tv = np.argpartition(-g, p2 - 1)[:p2] if p2 < g.size else np.arange(g.size)
                base += float(g[tv].sum())
                credit = credit + G[tv].sum(axis=0)
            phi = base + float(w[top].sum())
            if best is None or phi < best[0]:
                best = (phi, w, base)
            if it % 2 == 0:
                mu = mu * np.minimum(1.0, eF / np.maximum(credit, 1e-12))
            else:
                grad = self.pi * (credit - eF)
                gmax = float(np.abs(grad).max())
                if gmax <= 0:
                    break
                mu = np.clip(mu - (0.25 / it) * grad / gmax, 0.0, 1.0)
        assert best is not None
        return best

    def _p_new(self, f: int, r: int) -> int:
        """Number of patterns (≤ k atoms) with at least one of r new atoms, next to f chosen atoms."""
        return sum(math.comb(r, j) * sum(math.comb(f, i) for i in range(self.k - j + 1)) for j in range(1, self.k + 1))

    def counting_floor(self) -> float:
        """Global lower bound: at most p_new(0, m) nonempty events can have error 0, all others ≥ 1."""
        vals = np.sort(self.pi[self.sizes > 0])[::-1]
        return float(vals[self._p_new(0, self.m) :].sum())

    def _p2(self, f: int, r: int) -> int:
        """Number of patterns with ≥ 2 new atoms among r new and f chosen atoms."""
        return sum(math.comb(r, j) * sum(math.comb(f, i) for i in range(self.k - j + 1)) for j in range(2, self.k + 1))

    def _visit(
        self,
        F: tuple[int, ...],
        cand: np.ndarray,
        kb: np.ndarray,
        kF: np.ndarray,
        resid: list[tuple[int, ...]],
        H: np.ndarray | None = None,
        lam: np.ndarray | None = None,
        r1: tuple[float, np.ndarray] | None = None,
    ) -> None:
        """Evaluate every child F ∪ {A} (A ∈ cand), then recurse into those the bound keeps.

        ``r1``: rank-one LP terms (const, ρ) re-solved at an ancestor (:data:`RANK_ONE_FORCE_DEPTH`); the root
        LP's terms when None.

        ``H``: row indices into ``self.gperm`` of the automorphisms (as atom maps) that fix F and the excluded
        atoms setwise; only the
        first child of each H-orbit is branched on, and the later orbits exclude the earlier ones entirely
        (orbital branching; docs/solvers-scale.md)."""
        self._check_time()
        self.stats.nodes += 1
        r = self.m - len(F)
        if r <= 0 or cand.size == 0:
            return
        from rdp_exact.solvers import bnb_kernel as bk

        # errors of F ∪ {A} are at most those of F, at most |S| (the empty code): int8 whenever n ≤ 127
        eA = np.empty(kb.shape, dtype=np.int8 if int(kF.max(initial=0)) // self.K1 <= 127 else np.int32)
        keA, DA = bk.node_eval(kb, kF, self.K1, self.pi, eA)
        self.stats.evaluated += int(cand.size)
        i_min = int(np.argmin(DA))
        if DA[i_min] < self.best:
            self._offer(tuple(sorted((*F, int(cand[i_min])))), float(DA[i_min]), record=False)
        near = np.flatnonzero(DA <= self.best + TOL + FLOAT_SLACK)
        if near.size:
            capable = (kb[near] <= kF[None, :]).any(axis=1)
            for i in near[capable].tolist():
                self._offer(tuple(sorted((*F, int(cand[i])))), float(DA[i]))
        if r == 1 or cand.size == 1:
            return
        eF = (kF // self.K1).astype(np.float64)
        # counting bound per child: an event keeps error ≥ 1 unless a new pattern's vector equals 1_S, and
        # each of the p_new patterns with a new atom has one vector
        pn = self._p_new(len(F) + 1, r - 1)
        cnt_lb = np.zeros(cand.size)
        small_F = np.sort(np.where(eF >= 1, self.pi, 0.0))[: max(self.N - pn, 0)].sum()
        if pn < self.N and small_F > self.best + TOL + FLOAT_SLACK:
            # (sum of the N − p_new smallest entries is monotone, and e_{F∪A} ≤ e_F: skip when it cannot prune)
            vals = np.where(eA >= 1, self.pi[None, :], 0.0)
            cnt_lb = vals.sum(axis=1) - (-np.partition(-vals, pn - 1, axis=1)[:, :pn]).sum(axis=1)
        if float(cnt_lb.min()) > self.best + TOL + FLOAT_SLACK:
            return  # every child subtree is pruned by the counting bound
        lam_c = lam
        lim = self.best + TOL + FLOAT_SLACK
        families: list[tuple[float, np.ndarray]] = []
        terms: list[tuple[float, np.ndarray]] = []
        if self.r1_rho is not None:
            terms.append((self.r1_const, self.r1_rho) if r1 is None else r1)
        if self.r1_lp is not None and 1 <= len(F) <= self.r1_depth and cand.size >= RANK_ONE_FORCE_MIN_ATOMS:
            r1 = self._forced_terms(F, cand, r)
            terms.append(r1)
        for const, rho in terms:
            # the rank-one LP's terms (rank_one_fixing, _forced_terms): D(F ∪ U) ≥ const + Σ_F ρ + Σ_U ρ
            w_r = -rho[cand]
            base_r = const + float(rho[list(F)].sum()) if F else const
            families.append((base_r, w_r))
            cnt_lb = np.maximum(cnt_lb, self._global_child_bound(base_r, w_r, r))
        if F and terms and float(cnt_lb.min()) > lim:
            return  # every child subtree is pruned by the rank-one terms
        tuned = self.bound == "lagrange" and (r >= LAG_MIN_R or not F)
        if tuned:
            iters = LAG_ITERS_ROOT if not F else LAG_ITERS_SMALL if self.n <= LAG_ITERS_SMALL_MAX_N else LAG_ITERS
            self.lag_budget_s = self.root_budget_s if not F else math.inf
            charge = self.atoms[cand] if self.k == 2 and CHARGE else None
            base_l, w_l, lam_c = self._lagrange(eF, eA, r, self._p2(len(F), r), lam, iters, charge)
            families.append((base_l, w_l))
            # order-free child bound: base − w_A − (the r − 1 largest other w); an atom above the incumbent
            # is in no improving completion of F, so it also leaves every descendant's allowed list
            cnt_lb = np.maximum(cnt_lb, self._global_child_bound(base_l, w_l, r))
            if self.n <= LEGACY_BESIDE_LAGRANGE_MAX_N and np.any(cnt_lb <= lim):
                families.append(self._legacy_bound(F, cand, kF, eF, eA, r, beside_lagrange=True))
        else:
            families.append(self._legacy_bound(F, cand, kF, eF, eA, r))
        order, lb = self._combined_windows(families, r, lim)
        pair_terms = None
        if tuned and self.k == 2 and r >= 3 and EXACT_PAIRS and cand.size <= EXACT_PAIRS_MAX_ATOMS and lb.size:
            is_open = lb <= lim
            n_open = int(np.count_nonzero(is_open))
            rows = None
            if r == 3 and EXACT_PAIR_ROWS and n_open >= EXACT_PAIR_ROWS_MIN_OPEN:
                rows = order[is_open]
                rows = rows[cnt_lb[rows] <= lim]  # the children the loop below can visit
            if rows is not None or n_open >= EXACT_PAIRS_MIN_OPEN:
                lb2, cnt2, pair_terms = self._exact_pair_windows(eF, eA, cand, lam_c, order, r, rows)
                lb = np.maximum(lb, lb2)
                cnt_lb = np.maximum(cnt_lb, cnt2)
        node_lb = -math.inf
        if lb.size:  # each family's bound for the whole node: base − (the r largest w)
            node_lb = max(base_f - float(np.sort(w_f)[::-1][:r].sum()) for base_f, w_f in families)
        if lb.size:  # every child is bounded by its window bound and by its order-free bound
            node_lb = max(node_lb, float(np.min(np.maximum(lb, cnt_lb[order]))))
        if not F:
            self.stats.extra["root_bound"] = max(0.0, min(node_lb, self.best))
            if self.deadline is not None and time.perf_counter() > self.deadline:
                self.interrupt_bound = max(self.counting_floor(), min(self.best, node_lb)) - FLOAT_SLACK
                raise _Timeout
        self.path_lb.append(node_lb)
        try:
            self._children(F, cand, kb, keA, resid, H, lam_c, r, order, lb, cnt_lb, r1, families, pair_terms)
        finally:
            self.path_lb.pop()

    def _screen(self, F: tuple[int, ...], cand: np.ndarray, kb: np.ndarray, kF: np.ndarray, lam: np.ndarray,
                r1: tuple[float, np.ndarray] | None) -> bool:
        """True when the child node F (r = :data:`SCREEN_R` atoms left) needs no visit: the compiled screen
        (:func:`rdp_exact.solvers.bnb_kernel.screen_child`) runs the visit's first steps — its children's errors,
        the Lagrangian from the parent's λ with the same steps and stop rule, the order-free grandchild bounds of
        that family and of the rank-one terms — and every grandchild's bound is above the incumbent, with no
        child within the tie tolerance. Counted as a node (and in ``screened``); otherwise the caller visits F,
        which repeats the screen's work with every bound family (the legacy and exact-pair bounds too)."""
        from rdp_exact.solvers import bnb_kernel as bk

        if self.bound != "lagrange" or cand.size < 2 or int(kF.max(initial=0)) // self.K1 > 127:
            return False  # (the screen holds the children's errors as int8: ≤ |S| ≤ n)
        if self.r1_lp is not None and len(F) <= self.r1_depth and cand.size >= RANK_ONE_FORCE_MIN_ATOMS:
            return False  # the visit would re-solve the rank-one LP here: a bound the screen does not have
        self._check_time()
        r = self.m - len(F)
        p2 = self._p2(len(F), r)
        order, cum, ham = self._vector_lists() if p2 > 0 else self._no_vectors()
        charge = self.atoms[cand] if self.k == 2 and CHARGE and p2 > 0 else np.zeros(0, dtype=np.int64)
        rbase, rw = 0.0, np.zeros(0)
        if self.r1_rho is not None:
            const, rho = (self.r1_const, self.r1_rho) if r1 is None else r1
            rbase, rw = const + float(rho[list(F)].sum()), np.ascontiguousarray(-rho[cand], dtype=np.float64)
        lim = self.best + TOL + FLOAT_SLACK
        skip, _dmin = bk.screen_child(kb, kF, self.K1, self.pi, np.ascontiguousarray(lam, dtype=np.float64), order,
                                      cum, ham, r, p2, np.ascontiguousarray(charge, dtype=np.int64), SCREEN_LAG_ITERS,
                                      LAG_CHUNK, self.best + TOL, lim, rbase, rw)
        if skip:
            self.stats.nodes += 1
            self.stats.evaluated += int(cand.size)
            self.stats.extra["screened"] = self.stats.extra.get("screened", 0) + 1
        return bool(skip)

    def _screen_children(self, F: tuple[int, ...], cand: np.ndarray, kb: np.ndarray, keA: np.ndarray, lam: np.ndarray,
                         r: int, order: np.ndarray, lb: np.ndarray, cnt_lb: np.ndarray,
                         r1: tuple[float, np.ndarray] | None, families: list[tuple[float, np.ndarray]] | None,
                         pair_terms: PairTerms | None) -> np.ndarray:
        """Per position of ``order``: the allowed-atom count of child F ∪ {a} (r − 1 = :data:`SCREEN_R` atoms left)
        where it needs no visit, else −1 — the screen of :meth:`_screen` run for all children in one compiled call
        (:func:`rdp_exact.solvers.bnb_kernel.screen_children`, :data:`FUSED_SCREEN`) with the allowed atoms
        :meth:`_children` would give each child, at the current incumbent. :meth:`_children` counts a skipped
        child when its loop reaches it, and screens the others again only if the incumbent fell meanwhile, so
        the search skips and counts exactly the children the per-child screen would."""
        from rdp_exact.solvers import bnb_kernel as bk

        self._check_time()
        lim = self.best + TOL + FLOAT_SLACK
        p2 = self._p2(len(F) + 1, r - 1)
        vorder, cum, ham = self._vector_lists() if p2 > 0 else self._no_vectors()
        if PAIR_FILTER and families:
            bases, W = _stack_families(families)
        else:
            bases, W = np.zeros(0), np.zeros((0, cand.size))
        ep = pair_terms is not None and EXACT_PAIR_FILTER
        pb, pw, pvb, pg, prow = pair_terms if pair_terms is not None else (
            0.0, np.zeros(0), np.zeros(0), np.zeros((0, 0)), np.zeros(0, dtype=np.int64))
        rbase, rho = 0.0, np.zeros(0)
        if self.r1_rho is not None:
            const, rho_all = (self.r1_const, self.r1_rho) if r1 is None else r1
            rbase = const + float(rho_all[list(F)].sum()) if F else const
            rho = np.ascontiguousarray(rho_all[cand], dtype=np.float64)
        return bk.screen_children(
            kb, keA, self.K1, np.ascontiguousarray(order, dtype=np.int64), lb, cnt_lb, lim, bases, W,
            max(2, PAIR_FILTER_MIN_ATOMS), ep, float(pb), pw, pvb, pg, prow,
            np.ascontiguousarray(self.atoms[cand], dtype=np.int64), np.ascontiguousarray(self.asize[cand]),
            self.events, self.sizes, self.pc, self.pi, np.ascontiguousarray(lam, dtype=np.float64), vorder, cum,
            ham, int(r), int(p2), bool(CHARGE and p2 > 0), SCREEN_LAG_ITERS, LAG_CHUNK, self.best + TOL, rbase, rho)

    def _exact_pair_windows(self, eF: np.ndarray, eA: np.ndarray, cand: np.ndarray, lam: np.ndarray,
                            order: np.ndarray, r: int, rows: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray, PairTerms]:
        """Child bounds with exact pair credits at the node's λ (k = 2): (per position of ``order``, per child,
        the terms (base, w, vb, g, row of each child) of :func:`~rdp_exact.solvers.bnb_kernel.exact_pair_filter`).
        The whole pair table (:func:`rdp_exact.solvers.bnb_kernel.exact_pair_windows`), or with ``rows`` (child
        indices) only their rows and the partners' charges through the 0/1 vectors
        (:func:`~rdp_exact.solvers.bnb_kernel.exact_pair_rows`; r = 3): −∞ for the other children."""
        from rdp_exact.solvers import bnb_kernel as bk

        lam = np.ascontiguousarray(lam, dtype=np.float64)
        base = float(np.minimum(lam, self.pi * eF).sum())
        masks = np.ascontiguousarray(self.atoms[cand], dtype=np.int64)
        order = np.ascontiguousarray(order, dtype=np.int64)
        full = (1 << self.n) - 1
        if rows is not None:
            vorder, cum, _ham = self._vector_lists()
            lb, cnt, w, vb, g, rowid = bk.exact_pair_rows(masks, self.events, self.pi, lam, eA, base, order, int(r),
                                                          self.pc, full, np.ascontiguousarray(rows, dtype=np.int64),
                                                          vorder, cum)
            return lb, cnt, (base, w, vb, g, rowid)
        lb, cnt, w, vb, g = bk.exact_pair_windows(masks, self.events, self.pi, lam, eA, base, order, int(r), self.pc,
                                                  full, (1 << self.n) <= EXACT_PAIRS_SUBSET_SHARE * cand.size)
        return lb, cnt, (base, w, vb, g, np.arange(cand.size, dtype=np.int64))

    def _forced_terms(self, F: tuple[int, ...], cand: np.ndarray, r: int) -> tuple[float, np.ndarray]:
        """The rank-one LP re-solved with the atoms of F forced in (:func:`~rdp_exact.solvers.rank_one.
        forced_terms`): its terms (const, ρ) in this search's atom indices, valid for every atom set."""
        from rdp_exact.solvers.rank_one import forced_terms

        assert self.r1_lp is not None and self.r1_idx is not None
        t0 = time.perf_counter()
        idx = self.r1_idx
        _val, const, rho = forced_terms(self.r1_lp, [int(idx[a]) for a in F], idx[cand], r, RANK_ONE_FORCE_S,
                                        ub=self.best + TOL + FLOAT_SLACK)
        ex = self.stats.extra
        ex["rank_one_nodes"] = ex.get("rank_one_nodes", 0) + 1
        ex["rank_one_node_s"] = ex.get("rank_one_node_s", 0.0) + time.perf_counter() - t0
        return float(const) - RANK_ONE_SLACK, np.minimum(np.asarray(rho, dtype=np.float64)[idx], 0.0)

    def _pair_filter(self, families: list[tuple[float, np.ndarray]], i: int, rest: np.ndarray, r: int,
                     stacked: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """The atoms of ``rest`` (child indices) that can still join child i: for each family,
        base − w_i − w_b − (the r − 2 largest w over rest ∖ {b}) ≤ incumbent + tolerance (compiled:
        :func:`rdp_exact.solvers.bnb_kernel.pair_filter`; ``stacked``: :func:`_stack_families` of them, once per
        node)."""
        from rdp_exact.solvers import bnb_kernel as bk

        bases, W = stacked if stacked is not None else _stack_families(families)
        return bk.pair_filter(bases, W, int(i), np.ascontiguousarray(rest, dtype=np.int64), int(r),
                              self.best + TOL + FLOAT_SLACK)

    @staticmethod
    def _global_child_bound(base: float, w: np.ndarray, r: int) -> np.ndarray:
        """base − w_i − (sum of the r − 1 largest w_j, j ≠ i), per child i (compiled:
        :func:`rdp_exact.solvers.bnb_kernel.global_child_bound`)."""
        from rdp_exact.solvers import bnb_kernel as bk

        return bk.global_child_bound(float(base), np.ascontiguousarray(w, dtype=np.float64), int(r))

    def _combined_windows(
        self, families: list[tuple[float, np.ndarray]], r: int, lim: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Children order and per-child bounds from several valid bound families (base, w).

        In a fixed order, child i's subtree adds atom i and at most r − 1 atoms after it, so every family gives
        base − w_i − (the r − 1 largest w after i); the child's bound is the largest of these. Each family's own
        w-descending order is tried and the one that leaves fewest children open is kept. The bounds are not
        monotone in the position, so :meth:`_children` stops at the first position whose suffix minimum exceeds
        the incumbent."""
        from rdp_exact.solvers import bnb_kernel as bk

        bases, W = _stack_families(families)
        return bk.combined_windows(bases, W, int(r), float(lim))

    def _legacy_bound(
        self,
        F: tuple[int, ...],
        cand: np.ndarray,
        kF: np.ndarray,
        eF: np.ndarray,
        eA: np.ndarray,
        r: int,
        beside_lagrange: bool = False,
    ) -> tuple[float, np.ndarray]:
        """The μ-convexified bound (module docstring): (D(F) − base_μ, w_μ). Beside the Lagrangian (which covers
        the free vectors itself) the free-vector variant is not tried from n = 11."""
        from rdp_exact.solvers import bnb_kernel as bk

        # r = 2: the children are cheap leaf evaluations, so spend little on the bound
        iters = MU_ITERS if r >= 3 else 2
        eFc = np.ascontiguousarray(eF, dtype=np.float64)
        # bound (a) (k ≥ 2: half credits for patterns with ≥ 2 new atoms; k = 1: the exact credits), compiled
        indptr, ev, val = bk.credit_entries(eFc, eA, self.helpful, self.outside, cand, self.k >= 2)
        phi_a, w, base = bk.mu_bound(self.pi, eFc, indptr, ev, val, r, iters)
        if self.k >= 2 and r >= 3 and self.n <= FREE_VECTOR_MU_MAX_N and not (beside_lagrange and self.n > 10):
            # bound (b): free vectors for the patterns with ≥ 2 new atoms
            c = np.maximum(eF[None, :] - eA, 0.0)
            G = np.maximum(eF[None, :].astype(np.float32) - self.hamming, 0.0)
            phi_b, w_b, base_b = self._mu_bound(c, eF, r, G, self._p2(len(F), r), iters)
            if phi_b < phi_a:
                w, base = w_b, base_b
        return float(self._D(kF)) - base, w

    def _lagrange(
        self,
        eF: np.ndarray,
        eA: np.ndarray,
        r: int,
        p2: int,
        lam0: np.ndarray | None,
        iters: int,
        charge: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Facility-location Lagrangian (docs/solvers-scale.md): for λ ∈ [0, π·e_F],

            D(F ∪ U) ≥ Σ_S min(λ_S, π_S e_F(S)) − Σ_{A∈U} w_λ(A) − top-p2 Σ_v g_λ(v),

        w_λ(A) = Σ_S (λ_S − π_S e_{F∪A}(S))⁺ (the exact patterns of a new atom with the chosen ones),
        g_λ(v) = Σ_S (λ_S − π_S |1_S − v|²)⁺ over 0/1 vectors v (patterns with ≥ 2 new atoms; a vector entry
        ≥ 2 is never closer to a 0/1 target than 1). λ is tuned by projected subgradient steps with a Polyak
        step towards the incumbent, compiled (:mod:`rdp_exact.solvers.bnb_kernel`, float64, sparse tables).
        Returns (Σ min(λ, πe_F) − top-p2 g_λ, w_λ, λ) for the best λ seen.

        ``charge`` (k = 2: the candidate atoms' masks): the pair term is charged to the atoms instead of the
        top-p2 free vectors, w_λ(A) + ½ G_λ(A) with G_λ(A) the r − 1 largest g_λ over proper supersets of A
        (:func:`rdp_exact.solvers.bnb_kernel._superset_charge`); the first return value is then Σ min(λ, πe_F)."""
        from rdp_exact.solvers import bnb_kernel as bk  # numba is imported only when a search runs

        pe = self.pi * eF
        lam = np.minimum(lam0, pe) if lam0 is not None else 0.5 * pe
        lam = np.ascontiguousarray(lam, dtype=np.float64)
        eFc = np.ascontiguousarray(eF, dtype=np.float64)
        indptr, ev, val = bk.atom_entries(self.pi, eFc, eA)
        order, cum, ham = self._vector_lists() if p2 > 0 else self._no_vectors()
        smasks = np.zeros(0, dtype=np.int64) if charge is None or p2 <= 0 else np.ascontiguousarray(charge)
        best_lam = lam.copy()
        best_w = np.empty(indptr.size - 1)
        best_val, theta, stale = -math.inf, 1.0, 0
        base = math.nan
        target = self.best + TOL
        t_stop = time.perf_counter() + self.lag_budget_s
        done = 0
        while done < max(1, iters):
            chunk = min(LAG_CHUNK, max(1, iters) - done)
            lam, theta, stale, best_val, best_lam, pruned, chunk_base = bk.lagrange_iterate(
                self.pi, eFc, indptr, ev, val, order, cum, ham, r, p2, lam, theta, stale, best_val, best_lam,
                chunk, target, smasks, best_w,
            )
            if not math.isnan(chunk_base):  # this chunk improved the best λ (and wrote its w_λ into best_w)
                base = chunk_base
            done += chunk
            if pruned or theta < 1e-9 or time.perf_counter() > t_stop:
                break  # any λ gives a valid bound: stop tuning when the node's time share is spent
        assert not math.isnan(base), "the first subgradient step always sets the best λ"
        return float(base), best_w, best_lam

    def _vector_lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(per-event vectors by distance, cumulative counts, |1_S − v|² as uint8 [2^n, N]), built once."""
        if self._vec_cache is None:
            from rdp_exact.solvers import bnb_kernel as bk

            order, cum = bk.vector_lists(self.hamming)
            self._vec_cache = (order, cum, np.ascontiguousarray(self.hamming.astype(np.uint8)))
        return self._vec_cache

    def _no_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.zeros((self.N, 1), dtype=np.uint16), np.zeros((self.N, 2), dtype=np.int64), np.zeros(
            (1, self.N), dtype=np.uint8
        )

    def _children(
        self,
        F: tuple[int, ...],
        cand: np.ndarray,
        kb: np.ndarray,
        keA: np.ndarray,
        resid: list[tuple[int, ...]],
        H: np.ndarray | None,
        lam: np.ndarray | None,
        r: int,
        order: np.ndarray,
        lb: np.ndarray,
        cnt_lb: np.ndarray,
        r1: tuple[float, np.ndarray] | None = None,
        families: list[tuple[float, np.ndarray]] | None = None,
        pair_terms: PairTerms | None = None,
    ) -> None:
        """Recurse into the children in ``order`` while their bound ``lb`` can beat the incumbent.

        ``families``: the node's bound families (base, w), D(F ∪ U) ≥ base − Σ_{A∈U} w_A for |U| ≤ r. Child a's
        allowed atoms are filtered by them with a in the set: atom b stays only if base − w_a − w_b − (the r − 2
        largest other w of the allowed atoms) can beat the incumbent (:data:`PAIR_FILTER`): a dropped atom is in no
        completion within the tie tolerance, and a smaller child costs less in every per-atom pass."""
        level = len(self.stack_lb)
        self.stack_lb.append(-math.inf)
        self.root_entered = True
        sym = H is not None and H.size > 1 and self.gperm is not None
        if sym:
            assert H is not None and self.gperm is not None
            gp = self.gperm
            # orbit label (least atom index of the orbit) per allowed atom: whole rows, then the allowed columns
            # (a gather of |H| × |cand| scattered cells took 0.16 s per node at n = 16, |G| = 384; this 10 ms)
            lab = gp[H[0]].copy()
            for h in H[1:].tolist():
                np.minimum(lab, gp[h], out=lab)
            lab = lab[cand]
            seen = np.zeros(self.M, dtype=bool)
        # the bounds need not be monotone in the position: stop where every later child's bound is too high
        sufmin = np.minimum.accumulate(lb[::-1])[::-1] if lb.size else lb
        stacked = None
        pre, pre_best = None, self.best
        if (FUSED_SCREEN and SCREEN_R and r - 1 == SCREEN_R and lam is not None and not sym and self.k == 2
                and self.bound == "lagrange" and lb.size > 1
                and (self.emit is None or len(F) + 1 != self.split_depth)
                and (self.r1_lp is None or len(F) + 1 > self.r1_depth)):
            # every child's screen in one compiled call; the loop below visits the others as before
            pre = self._screen_children(F, cand, kb, keA, lam, r, order, lb, cnt_lb, r1, families, pair_terms)
        try:
            for pos in range(lb.size - 1):  # the last child has no allowed atoms left
                if sufmin[pos] > self.best + TOL + FLOAT_SLACK:
                    break
                self.stack_lb[level] = float(sufmin[pos])
                if lb[pos] > self.best + TOL + FLOAT_SLACK:
                    continue
                i = int(order[pos])
                if sym:
                    if seen[lab[i]]:
                        continue  # an image of this subtree lies in the subtree of its orbit's first atom
                    seen[lab[i]] = True
                if cnt_lb[i] > self.best + TOL + FLOAT_SLACK:
                    continue
                if pre is not None and pre[pos] >= 0:  # screened above: counted as _screen counts it
                    self.stats.nodes += 1
                    self.stats.evaluated += int(pre[pos])
                    self.stats.extra["screened"] = self.stats.extra.get("screened", 0) + 1
                    continue
                a = int(cand[i])
                rest = order[pos + 1 :]
                rest = rest[cnt_lb[rest] <= self.best + TOL + FLOAT_SLACK]
                if PAIR_FILTER and families and r >= 2 and rest.size >= max(2, PAIR_FILTER_MIN_ATOMS):
                    if stacked is None:
                        stacked = _stack_families(families)
                    rest = self._pair_filter(families, i, rest, r, stacked)
                if pair_terms is not None and EXACT_PAIR_FILTER and rest.size >= 2:
                    # the same filter under the exact pair credits: b stays only if base − w(a) − v_a(b) − (the
                    # r − 2 largest other v_a) can beat the incumbent
                    from rdp_exact.solvers import bnb_kernel as bk

                    pb, pw, pvb, pg, prow = pair_terms
                    rest = bk.exact_pair_filter(pb, pw, pvb, pg, prow, int(i), np.ascontiguousarray(rest, dtype=np.int64),
                                                int(r), self.best + TOL + FLOAT_SLACK)
                H_c = None
                if sym:
                    assert H is not None
                    lab_i = lab[i]
                    seen[lab_i] = False
                    rest = rest[~seen[lab[rest]]]  # earlier orbits are excluded entirely
                    seen[lab_i] = True
                    H_c = H[gp[H, a] == a]
                child = (*F, a)
                if self.emit is not None and len(child) == self.split_depth:
                    # parallel search: the subtree is a task, bounded by its own bound and its ancestors'
                    self.emit(child, cand[rest], H_c, lam, max(float(lb[pos]), float(cnt_lb[i]), *self.path_lb), r1)
                    continue
                kb_c = kb[rest]
                new_q = [(a, *Q) for Q in resid if len(Q) <= self.k - 2]
                if self.k >= 2:
                    new_q.insert(0, (a,))
                sub = cand[rest]
                for Q in new_q:
                    self._min_pattern_keys(kb_c, Q, sub)
                resid_c = resid + [Q for Q in new_q if len(Q) <= self.k - 1]
                if (r - 1 == SCREEN_R and lam is not None and (pre is None or self.best < pre_best)
                        and self._screen(child, sub, kb_c, keA[i], lam, r1)):
                    continue
                self._visit(child, sub, kb_c, keA[i], resid_c, H_c, lam, r1)
        finally:
            self.stack_lb.pop()

    # ------------------------------------------------------------------ tie-break
    def evaluate_set(self, T: tuple[int, ...]) -> _Record | None:
        """Exact (D, R, P) and a code using every atom of T, or None when no per-event optimal code does."""
        K1 = self.K1
        pats: list[tuple[int, ...]] = [()]
        for s in range(1, min(self.k, len(T)) + 1):
            pats.extend(itertools.combinations(range(len(T)), s))
        keys = np.empty((len(pats), self.N), dtype=np.int64)
        for p, Q in enumerate(pats):
            c = self.bits[[T[j] for j in Q]].sum(axis=0) if Q else np.zeros(self.n, dtype=np.float32)
            err = np.rint(((self.t - c[None, :]) ** 2).sum(axis=1)).astype(np.int64)
            keys[p] = err * K1 + len(Q)
        kmin = keys.min(axis=0)
        full = (1 << len(T)) - 1
        # reachable used-atom masks after each event, with one witness choice per mask
        reach: dict[int, list[int]] = {0: []}
        for s in range(self.N):
            opts: dict[int, int] = {}
            for p in np.flatnonzero(keys[:, s] == kmin[s]).tolist():
                msk = sum(1 << j for j in pats[p])
                opts.setdefault(msk, p)
            nxt: dict[int, list[int]] = {}
            for u, choice in reach.items():
                for msk, p in opts.items():
                    v = u | msk
                    if v not in nxt:
                        nxt[v] = [*choice, p]
            reach = nxt
        if full not in reach:
            return None
        choice = reach[full]
        D = float((kmin // K1) @ self.pi)
        R = float((kmin % K1) @ self.pi)
        P = float(np.mean(self.weight[list(T)])) if T else 0.0
        masks = tuple(int(self.atoms[a]) for a in T)
        code = {int(self.events[s]): pats[p] for s, p in enumerate(choice) if pats[p]}
        return _Record(D, R, P, masks, code)

    def tie_break(self) -> _Record | None:
        seen: set[tuple[int, ...]] = set()
        recs: list[tuple[_Record, tuple[int, ...]]] = []
        dstar = min((d for d, _ in self.records if d <= self.d_cap), default=math.inf)
        for d, T in self.records:
            if d > dstar + TOL + FLOAT_SLACK or d > self.d_cap or T in seen:
                continue
            seen.add(T)
            rec = self.evaluate_set(T)
            if rec is not None:
                recs.append((rec, T))
        self.stats.records = len(recs)
        if not recs:
            return None
        dmin = min(r.D for r, _ in recs)
        recs = [x for x in recs if x[0].D <= dmin + TOL]
        rmin = min(r.R for r, _ in recs)
        recs = [x for x in recs if x[0].R <= rmin + TOL]
        self.dr_ties = [r for r, _ in recs]
        if self.gperm is None:
            return min((r for r, _ in recs), key=lambda r: (r.P, sorted(r.atoms)))
        # the records hold one set per orbit at least: the canonical set is the least image over the group
        best_key: tuple[float, tuple[int, ...]] | None = None
        best_T: tuple[int, ...] = ()
        for r, T in recs:
            if not T:
                key: tuple[float, tuple[int, ...]] = (r.P, ())
                img: tuple[int, ...] = ()
            else:
                imgs = self.gperm[:, list(T)]  # [G, |T|]
                masks = np.sort(self.atoms[imgs], axis=1)
                j = int(np.lexsort(masks.T[::-1])[0])
                key = (r.P, tuple(int(x) for x in masks[j]))
                img = tuple(sorted(int(x) for x in imgs[j]))
            if best_key is None or key < best_key:
                best_key, best_T = key, img
        out = self.evaluate_set(best_T)
        assert out is not None, "an image of a valid set is valid"
        return out

    def global_bound(self) -> float:
        """Lower bound on D* after an interruption: the incumbent and every pending child bound."""
        floor = max(0.0, self.counting_floor() - FLOAT_SLACK)
        if not self.root_entered:
            return min(floor, self.best)
        return max(floor, min(self.best, self.pending_bound()) - FLOAT_SLACK)

    def pending_bound(self) -> float:
        """Lower bound on the D of every set the interrupted search has not evaluated yet (∞ when none):
        pending siblings at level ℓ are bounded by their own bound and by every ancestor's node bound."""
        pending = [math.inf]
        run = -math.inf
        for lvl, lb in enumerate(self.stack_lb):
            if lvl < len(self.path_lb):
                run = max(run, self.path_lb[lvl])
            pending.append(max(lb, run))
        return min(pending)

    def depth_profile(self) -> list[float]:
        """Pending child bound per DFS level (diagnostics)."""
        return list(self.stack_lb)


def _sae_from_record(rec: _Record, n: int, m: int) -> CombinatorialSAE:
    atoms = list(rec.atoms) + [0] * (m - len(rec.atoms))
    return CombinatorialSAE.free(n, atoms, rec.code, "integer")


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve the free-class min-D query exactly by branch-and-bound (see module docstring).

    Budgets (module docstring, "Budgets"): a distortion budget δ is a cutoff of the search (exact; a search
    that finds no set with D ≤ δ + TOL proves the query infeasible); rate and poly budgets are checked on the
    canonical optimum — met, it is the budgeted optimum too; not met, the status is ``limit`` with bound D*
    and ``info.budget_binds`` says why (the integer programs answer such a query).

    ``options``: ``heuristic`` (local-search incumbent, default on), ``heuristic_time`` (seconds, default
    min(2, 5 % of the limit)), ``node_limit`` (stop after this many search nodes, like a time limit),
    ``symmetry`` (default on), ``bound`` (``lagrange`` or ``mu``), ``rank_one`` (root LP: ``auto``, true or
    false), ``rank_one_depth`` (re-solve that LP at the nodes of depth 1 … d; default
    :data:`RANK_ONE_FORCE_DEPTH`). Raises InvalidArgument when the query is outside :func:`applies`.

    ``threads``: worker processes for the subtrees below the split depth (:mod:`rdp_exact.solvers.bnb_parallel`;
    default: the usable cores, at most 8). Searches with fewer than ``bnb_parallel.MIN_ATOMS`` candidate atoms,
    a width below ``bnb_parallel.MIN_WIDTH``, or a ``node_limit`` run serially. The answer does not depend on
    it; the node count may.
    """
    if not applies(problem):
        raise InvalidArgument(
            "the bnb method needs the free class, integer coefficients, min distortion, "
            f"n ≤ {MAX_N} and every probability > {MIN_PROB:g}"
        )
    opts = dict(options or {})
    use_heur = bool(opts.pop("heuristic", True))
    heur_time = opts.pop("heuristic_time", None)
    node_limit = opts.pop("node_limit", None)
    use_symmetry = bool(opts.pop("symmetry", True))
    rank_one = opts.pop("rank_one", "auto")
    if rank_one not in ("auto", True, False):
        raise InvalidArgument(f"bnb option rank_one must be auto, true or false, got {rank_one!r}")
    rank_one_depth = opts.pop("rank_one_depth", RANK_ONE_FORCE_DEPTH)
    if isinstance(rank_one_depth, bool) or not isinstance(rank_one_depth, int) or rank_one_depth < 0:
        raise InvalidArgument(f"bnb option rank_one_depth must be an integer ≥ 0, got {rank_one_depth!r}")
    bound_kind = str(opts.pop("bound", "lagrange"))
    if bound_kind not in ("lagrange", "mu"):
        raise InvalidArgument(f"bnb option bound must be lagrange or mu, got {bound_kind!r}")
    opts.pop("formulation", None)
    opts.pop("interface", None)
    ignored = tuple(sorted(opts))
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    warm_kernels()  # load (or, on a fresh checkout, compile) the kernels before the root's λ budget starts
    # threshold class: search the free class (it contains every threshold SAE's (D, R)), then realise
    search_pr = problem.with_(encoder="free", encoder_weights="ternary") if problem.encoder == "threshold" else problem
    search = _Search(search_pr, deadline, None if node_limit is None else int(node_limit), bound_kind,
                     cutoff=problem.max_distortion)
    search.root_budget_s = ROOT_LAG_SHARE * float(time_limit) if time_limit is not None else 60.0
    search.r1_depth = rank_one_depth
    info: dict[str, Any] = {"candidate_atoms": int(search.M), "events": int(search.N)}
    if ignored:
        info["ignored_options"] = ignored
    completed = False
    reason = None
    try:
        if use_symmetry:
            search.setup_symmetry()
            info["symmetry_group_order"] = search.group_order
            info["symmetry_group_full"] = search.stats.extra.get("group_full")
            if deadline is not None and time.perf_counter() > deadline:
                raise _Timeout
        if use_heur and search.M:
            budget = float(heur_time) if heur_time is not None else min(2.0, 0.05 * time_limit if time_limit else 2.0)
            search.local_search(budget)
            info["heuristic_objective"] = search.stats.incumbent_D
            info["heuristic_s"] = search.stats.incumbent_s
            info["heuristic_restarts"] = search.stats.extra.get("restarts", 0)
        wanted = rank_one is True or (rank_one == "auto" and search.M >= RANK_ONE_MIN_ATOMS)
        if wanted and search.M and math.isfinite(search.best):
            share = RANK_ONE_SHARE * float(time_limit) if time_limit is not None else RANK_ONE_MAX_S
            info.update(search.rank_one_fixing(min(share, RANK_ONE_MAX_S)))
            info["candidate_atoms_kept"] = int(search.M)
            if search.bound == "lagrange" and info["rank_one_excluded"] and search.M <= RANK_ONE_MU_ATOMS:
                # few atoms left: the μ bound prunes as much here and costs far less per node (the
                # Lagrangian's pair term runs over all 2^n vectors whatever the atom count)
                search.bound = "mu"
                info["bound_after_fixing"] = "mu"
            if deadline is not None and time.perf_counter() > deadline:
                raise _Timeout
        workers = 1 if node_limit is not None else bnb_parallel.workers_for(search, threads)
        if workers > 1:
            bnb_parallel.run(search, workers, MAX_RECORDS)
        else:
            search.run()
        completed = True
    except _Timeout:
        reason = "time limit" if node_limit is None or search.stats.nodes < int(node_limit) else "node limit"
    except _TooManyTies:
        reason = f"more than {MAX_RECORDS} near-optimal atom sets (tie-break not affordable)"
    info.update(search.stats.extra.get("parallel", {}))
    if "rank_one_nodes" in search.stats.extra:
        info["rank_one_nodes"] = search.stats.extra["rank_one_nodes"]
        info["rank_one_node_s"] = round(search.stats.extra["rank_one_node_s"], 3)
    info.update(nodes=search.stats.nodes, sets_evaluated=search.stats.evaluated, search_s=time.perf_counter() - t0)
    if SCREEN_R > 0:
        info["screened_nodes"] = int(search.stats.extra.get("screened", 0))
    root_bound = search.stats.extra.get("root_bound")
    if root_bound is not None:
        # the rank-one LP's bound is a root bound too (computed before the root node)
        info["root_bound"] = max(float(root_bound), min(info.get("rank_one_bound", -math.inf), search.best))
    if problem.max_distortion is not None:
        info["budgets_checked"] = f"distortion budget {problem.max_distortion:g} is the search's cutoff"
    if completed:
        return _completed(problem, search, info, t0)
    info["not_proven_reason"] = reason
    bound = search.interrupt_bound if search.interrupt_bound is not None else search.global_bound()
    bound = max(bound, info.get("rank_one_bound", -math.inf))  # both are valid lower bounds on D*
    wall = time.perf_counter() - t0
    if not search.found or problem.encoder == "threshold":  # no set within the budget yet / free incumbent
        return Solution(problem, Status.LIMIT, NAME, _version(), wall, bound=bound, info=_bnb_info(info))
    atoms = [int(search.atoms[a]) for a in search.best_set]
    atoms += [0] * (problem.width - len(atoms))
    sae = CombinatorialSAE.best_response(problem.pmf, atoms, problem.k, "integer")
    ev = sae.evaluate(problem.pmf, problem.k)
    bound = min(bound, ev.distortion)
    if not within_budgets(problem, ev.rate, ev.distortion, ev.poly(problem.poly_measure)):
        # the incumbent's best-response code misses a rate/poly budget: report only the bound (a time limit,
        # not a decline: ``declined`` stays unset)
        info["budget_binds"] = "the incumbent found before the limit misses a rate or poly budget"
        return Solution(problem, Status.LIMIT, NAME, _version(), wall, bound=bound, info=_bnb_info(info))
    info["root_gap"] = relative_gap(ev.distortion, info.get("root_bound"))
    return Solution(
        problem, Status.LIMIT, NAME, _version(), wall, objective=ev.distortion, bound=bound,
        gap=relative_gap(ev.distortion, bound), sae=sae, evaluation=ev, info=_bnb_info(info),
    )


_WARM = False


def warm_kernels() -> None:
    """Load the compiled kernels of :mod:`rdp_exact.solvers.bnb_kernel` once per process by solving a tiny
    instance (k = 1 and k = 2). numba caches them on disk, so this costs ~1 s, or the compile (~15 s) the
    first time after an install or a change of the kernels (``make install`` does it once)."""
    global _WARM
    if _WARM:
        return
    _WARM = True
    from rdp_exact.generators import from_spec

    tiny = from_spec("random:n=5,support=10,seed=1")
    for k in (1, 2):
        solve(Problem(tiny, 3, k), time_limit=None, options={"heuristic": False})
    # the kernels that only larger searches reach (≥ PAIR_FILTER_MIN_ATOMS atoms, ≥ EXACT_PAIRS_MIN_OPEN open
    # children), with the argument types the search passes
    from rdp_exact.solvers import bnb_kernel as bk

    W = np.array([[0.5, 0.25, 0.0]])
    bk.pair_filter(np.array([1.0]), W, 0, np.array([1, 2], dtype=np.int64), 3, 1.0)
    events, pi, lam = np.array([3, 5], dtype=np.int64), np.array([0.5, 0.5]), np.array([0.5, 0.5])
    for dt in (np.int8, np.int32):
        for subsets in (False, True):
            _lb, _cnt, w, vb, g = bk.exact_pair_windows(np.array([1, 2, 4], dtype=np.int64), events, pi, lam,
                                                        np.ones((3, 2), dtype=dt), 1.0, np.arange(3, dtype=np.int64),
                                                        3, bk.popcount_table(3), 7, subsets)
    bk.exact_pair_filter(1.0, w, vb, g, np.arange(3, dtype=np.int64), 0, np.array([1, 2], dtype=np.int64), 3, 1.0)
    ham = np.array([[bin(v ^ e).count("1") for e in (3, 5)] for v in range(8)], dtype=np.float32)
    vorder, cum = bk.vector_lists(ham)
    for dt in (np.int8, np.int32):
        bk.exact_pair_rows(np.array([1, 2, 4], dtype=np.int64), events, pi, lam, np.ones((3, 2), dtype=dt), 1.0,
                           np.arange(3, dtype=np.int64), 3, bk.popcount_table(3), 7, np.array([0, 2], dtype=np.int64),
                           vorder, cum)


def _completed(problem: Problem, search: _Search, info: dict[str, Any], t0: float) -> Solution:
    """The answer of a search that ran to the end: optimal, infeasible (nothing within the distortion
    budget) or, when a rate/poly budget excludes the canonical optimum, ``limit`` with bound D*."""
    rec = search.tie_break()
    info["near_optimal_sets"] = search.stats.records
    if rec is None:
        assert problem.max_distortion is not None, "the used subset of an optimal set is always a valid record"
        info["budgets_checked"] = (f"no atom set has D ≤ {problem.max_distortion:g} + TOL: every subtree's bound "
                                   "exceeds the distortion budget (proof of infeasibility)")
        return Solution(problem, Status.INFEASIBLE, NAME, _version(), time.perf_counter() - t0,
                        info=_bnb_info(info))
    sae = _sae_from_record(rec, problem.pmf.n, problem.width)
    ev = sae.evaluate(problem.pmf, problem.k)
    P = ev.poly(problem.poly_measure)
    if problem.max_rate is not None or problem.max_poly is not None:
        if not within_budgets(problem, ev.rate, ev.distortion, P):
            missed = []
            if problem.max_rate is not None and ev.rate > problem.max_rate + TOL:
                missed.append(f"R = {ev.rate:.6g} > {problem.max_rate:g}")
            if problem.max_poly is not None and P > problem.max_poly + TOL:
                missed.append(f"P = {P:.6g} > {problem.max_poly:g}")
            info["budget_binds"] = (
                f"the canonical optimum without rate/poly budgets misses them ({', '.join(missed)}); "
                f"D* = {ev.distortion:.6g} is only a lower bound for this query"
            )
            info["not_proven_reason"] = "a rate or poly budget binds (bnb proves such queries only when it does not)"
            info["declined"] = "budget binds"
            info["notes"] = ("bnb does not answer a query whose rate or poly budget binds: use --solver highs "
                             "(or auto)",)
            return Solution(problem, Status.LIMIT, NAME, _version(), time.perf_counter() - t0,
                            bound=ev.distortion, info=_bnb_info(info))
        info["budgets_checked"] = (
            (info.get("budgets_checked", "") + "; " if "budgets_checked" in info else "")
            + "the canonical optimum without rate/poly budgets meets them, so it is the budgeted optimum"
        )
    info["root_gap"] = relative_gap(ev.distortion, info.get("root_bound"))
    if problem.encoder == "threshold":
        return _as_threshold(problem, search, rec, info, t0)
    return Solution(
        problem, Status.OPTIMAL, NAME, _version(), time.perf_counter() - t0, objective=ev.distortion,
        bound=ev.distortion, gap=0.0, sae=sae, evaluation=ev, info=_bnb_info(info),
    )


def _as_threshold(problem: Problem, search: _Search, rec: _Record, info: dict[str, Any], t0: float) -> Solution:
    """The free-class canonical optimum ``rec`` as a threshold-class answer (module docstring, "Threshold").

    Every threshold SAE is a free SAE with the same D and R once duplicate latents (same atom, never firing
    together on a D-optimal SAE) are merged, so D*_thr ≥ D*_free and, at equal D, R*_thr ≥ R*_free. If each
    latent's firing set in ``rec``'s code is realised by a threshold unit, the realised SAE attains both: D and
    R are proven. P_dec is proven when no D, R-tie padded with duplicates of its lightest atom up to m latents
    could have a smaller mean weight; otherwise the status is ``limit`` (D and R proven, P not)."""
    from rdp_exact.sae import ThresholdUnit
    from rdp_exact.solvers.candidates import threshold_patterns

    pmf, n, m = problem.pmf, problem.pmf.n, problem.width
    wall = time.perf_counter() - t0
    patterns = {fp.events: fp for fp in threshold_patterns(pmf, problem.encoder_weights == "binary",
                                                           max_units=MAX_THRESHOLD_UNITS)}
    index = {int(e): s for s, e in enumerate(np.asarray(pmf.masks).tolist())}
    firing = [0] * len(rec.atoms)
    for event, pattern in rec.code.items():
        for j in pattern:
            firing[j] |= 1 << index[int(event)]
    units = [patterns.get(f) for f in firing]
    if any(u is None for u in units):
        info["not_proven_reason"] = ("the free-class optimum's code is not realisable by threshold units "
                                     "(its D* is a lower bound for the threshold class)")
        info["declined"] = "free optimum not threshold-realisable"
        info["notes"] = ("bnb answers the threshold class only when the free optimum is threshold-realisable: "
                         "use --solver highs",)
        return Solution(problem, Status.LIMIT, NAME, _version(), wall, bound=rec.D, info=_bnb_info(info))
    dead = ThresholdUnit(tuple([0] * n), 1)
    enc = [ThresholdUnit(u.weights, u.threshold) for u in units if u is not None] + [dead] * (m - len(units))
    atoms = list(rec.atoms) + [0] * (m - len(rec.atoms))
    sae = CombinatorialSAE.threshold(n, atoms, enc, "integer")
    ev = sae.evaluate(pmf, problem.k)
    P = ev.poly(problem.poly_measure)
    assert abs(ev.distortion - rec.D) <= 1e-12 and abs(ev.rate - rec.R) <= 1e-12, "realisation changes the code"
    floor = min((_padded_poly_floor(r, search, m) for r in search.dr_ties), default=P)
    info["budgets_checked"] = "; ".join(x for x in (info.get("budgets_checked"), "threshold class: the free optimum's "
                                                    "code is realised by threshold units") if x)
    if P > floor + TOL:
        info["not_proven_reason"] = (f"D and R proven; P = {P:.6g} not proven: a D, R-tie padded with duplicate "
                                     f"latents could reach P = {floor:.6g}")
        return Solution(problem, Status.LIMIT, NAME, _version(), wall, objective=ev.distortion, bound=ev.distortion,
                        gap=0.0, sae=sae, evaluation=ev, info=_bnb_info(info))
    return Solution(problem, Status.OPTIMAL, NAME, _version(), wall, objective=ev.distortion, bound=ev.distortion,
                    gap=0.0, sae=sae, evaluation=ev, info=_bnb_info(info))


def _padded_poly_floor(rec: _Record, search: _Search, m: int) -> float:
    """Least P_dec of ``rec``'s atoms with duplicates added up to m latents: (Σ w + (m − |T|)·min w)/m."""
    if not rec.atoms:
        return 0.0
    w = [poly_weight(bin(a).count("1")) for a in rec.atoms]
    del search
    return (sum(w) + (m - len(w)) * min(w)) / m


def _bnb_info(info: dict[str, Any]) -> BnbInfo:
    return from_mapping(BnbInfo, info)

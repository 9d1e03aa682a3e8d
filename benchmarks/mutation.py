"""Mutation score of the core (issue 14): mutmut over four modules, with the tests that cover them.

Run by ``make mutation`` (not part of ``make test``) in the scratch environment ``.venv-mutmut``
(pinned ``mutmut==3.8.1``). The script

1. copies the packages and the selected tests into ``build/mutation/`` with a ``pyproject.toml``
   carrying a ``[tool.mutmut]`` section (so the repository's own pyproject stays untouched);
2. runs ``mutmut run`` there (``--max-children`` workers, default 2);
3. reads mutmut's per-file results (``mutants/**/*.py.meta``) and writes
   ``bench-results/mutation.json`` and ``bench-results/mutation.md``: per file the mutants, killed,
   survived, timeouts and not-checked counts, the score killed / (all − equivalent), every survivor
   with its diff, and the survivors judged equivalent (:data:`EQUIVALENT`, a one-line reason each).

Options: ``--files`` (a subset of :data:`FILES`), ``--max-children N``, ``--keep`` (reuse
``build/mutation`` and mutmut's cache: only unfinished mutants run again), ``--rerun-survivors``
(reuse it, copy the current test files in, and re-run only the mutants that survived or had no test:
what to do after adding tests that kill survivors; the report then gives both run times). The 1-minute
load average is sampled every 15 s during each ``mutmut run`` and reported with the times (min, mean, max).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
OUT = ROOT / "bench-results"

#: Modules mutated, with the tests that cover them (the fast tiers; each mutant runs only the tests
#: that execute its function, as recorded by mutmut's coverage pass).
FILES: dict[str, tuple[str, ...]] = {
    "rdp_exact/sae.py": ("tests/unit/test_sae.py", "tests/unit/test_mutation_core.py",
                         "tests/unit/test_mutation_kills_sae.py"),
    "rdp_exact/polysemanticity.py": ("tests/unit/test_sae.py", "tests/unit/test_mutation_core.py"),
    "rdp_exact/theory.py": ("tests/unit/test_theory.py", "tests/unit/test_mutation_core.py",
                            "tests/unit/test_mutation_kills_theory.py"),
    "audit/proxies.py": ("tests/unit/test_proxies.py", "tests/unit/test_mutation_core.py",
                         "tests/unit/test_mutation_kills_proxies.py"),
}

#: Packages and files copied beside the mutated ones (imports and test helpers).
COPY = ("rdp_exact", "audit", "sae_train", "proofs_check", "rdp", "tests", "conftest.py", "data", "examples")

#: Surviving mutants that cannot change behaviour, by mutmut name (names refer to the sources as of the
#: recorded run; re-check them after editing a mutated module), with the reason.
_P, _T, _X = "rdp_exact.polysemanticity.x_", "rdp_exact.theory.x_", "audit.proxies.x_"
_S = "rdp_exact.sae."
_ORDER_ONLY = "the event order only steers pruning; the DP's minimum does not depend on it"
_PRUNE_ONLY = "a weaker pruning test keeps more partial sums; the minimum is unchanged"
_SAME_LEN = "zip over two arrays of equal length by construction: strict makes no difference"
_CHUNK = "the chunk size only batches the permutations; every permutation gets the same V"
_NO_PMF = "_check_width_cap never reads its pmf argument"
_ZERO_EVENT = "an event with cap 0 or mass 0 adds 0 to every partial sum (and leaves the pruning bound unchanged)"
_TWO_D = "only called with 2-D [B, N] arrays, where axis +1 is axis −1"
#: _pearson_rows only ever sees rank rows (ranks 1..N of t and q, within a resample or permuted): a
#: constant row is exactly constant after centring (sum and mean of equal half-integers are exact), a
#: non-constant one has Σ(x − x̄)² ≥ N(N − 1)/4, and scale ≤ N², so 1e−12·scale² decides nothing below
#: N = 10⁵ SAEs, and a ±1 correlation is computed exactly (identical or reversed rank rows).
_RANKS = ("only fed rank rows: constant rows centre to exactly 0 and non-constant ones have Σ(x − x̄)² ≥ "
          "N(N−1)/4 ≫ 1e−12·scale² (scale ≤ N², N < 10⁵), so this change of the degeneracy test decides nothing")
_CLIP = "only fed rank rows: |ρ| = 1 arises only for identical or reversed rank rows and is then exact, so the clip never acts"
_BRANCH = ("both branches compute max{D ∈ 𝒟_mono : D ≤ δ + TOL} exactly (the exact search always, the head when "
           "δ + TOL ≤ its last value); the condition only picks the faster one (same value up to the rounding of the sums)")
_GRID = ("V and every permuted V are (inv + ½·ties)/K by the same arithmetic: equal counts give equal floats, "
         "different ones differ by ≥ 1/(2K) ≫ 1e−12 (K < 5·10¹¹ pairs), so > and ≥ agree against x − 1e−12")
EQUIVALENT: dict[str, str] = {
    _P + "binary_row_poly__mutmut_5": "t = 1 gives 1 − 1/√1 = 0, the same value as the t ≤ 0 branch",
    _P + "cosine_table__mutmut_11": "W is already float64, so W @ V.T is float64 whatever V's dtype",
    _P + "cosine_table__mutmut_13": "W is already float64, so W @ V.T is float64 whatever V's dtype",
    _P + "live_rows__mutmut_3": "np.linalg.norm returns float64 norms for integer rows too",
    _P + "live_rows__mutmut_5": "np.linalg.norm returns float64 norms for integer rows too",
    _P + "polysemanticity__mutmut_3": "W only reaches live_rows and cosine_table, which convert it themselves",
    _P + "polysemanticity__mutmut_5": "W only reaches live_rows and cosine_table, which convert it themselves",
    _P + "row_poly__mutmut_3": "1 − max|C| is float64 for an integer C too",
    _P + "row_poly__mutmut_5": "1 − max|C| is float64 for an integer C too",
    _T + "_min_sum_at_least__mutmut_3": _ORDER_ONLY,
    _T + "_min_sum_at_least__mutmut_5": _ORDER_ONLY,
    _T + "_min_sum_at_least__mutmut_6": _ORDER_ONLY,
    _T + "_min_sum_at_least__mutmut_9": _ORDER_ONLY,
    _T + "_min_sum_at_least__mutmut_19": "a larger remainder bound only prunes less",
    _T + "_min_sum_at_least__mutmut_25": "a duplicated zero start state is merged by the deduplication",
    _T + "_min_sum_at_least__mutmut_36": _SAME_LEN,
    _T + "_min_sum_at_least__mutmut_39": _SAME_LEN,
    _T + "_min_sum_at_least__mutmut_40": _SAME_LEN,
    _T + "_min_sum_at_least__mutmut_44": "a cap-0 or zero-mass event adds 0 to every state; skipping it is an optimisation",
    _T + "_min_sum_at_least__mutmut_49": "events with π·u = 0 sort last, so break and continue both end the useful work",
    _T + "_min_sum_at_least__mutmut_65": _PRUNE_ONLY,
    _T + "_min_sum_at_least__mutmut_66": _PRUNE_ONLY,
    _T + "_min_sum_at_least__mutmut_72": _PRUNE_ONLY,
    _T + "rate_tax__mutmut_35": "k defaults to None in max_omission_distortion",
    _X + "_bootstrap_stats__mutmut_7": "bincount counts become float64 either way",
    _X + "_bootstrap_stats__mutmut_33": "einsum labels are arbitrary: 'BI,BI->B' is the same contraction",
    _X + "_bootstrap_stats__mutmut_34": "a boolean matrix becomes float64 either way",
    _X + "_bootstrap_stats__mutmut_46": "safe is used only where kb > 0",
    _X + "_perm_v_stats__mutmut_12": _CHUNK,
    _X + "_perm_v_stats__mutmut_14": _CHUNK,
    _X + "_perm_v_stats__mutmut_15": _CHUNK,
    _X + "_perm_v_stats__mutmut_20": _CHUNK,
    _X + "_perm_v_stats__mutmut_21": _CHUNK,
    _X + "_perm_v_stats__mutmut_27": "step 1 recomputes overlapping chunks with the same values",
    _X + "audit_proxy__mutmut_19": "finite=None is falsy like finite=False",
    _X + "dominated_pairs__mutmut_12": "numpy reads any negative reshape size as 'infer'",
    _X + "_pearson_rows__mutmut_27": "einsum labels are arbitrary: '...I,...I->...' is the same contraction",
    _X + "_pearson_rows__mutmut_36": "einsum labels are arbitrary: '...I,...I->...' is the same contraction",
    _X + "_pearson_rows__mutmut_45": "einsum labels are arbitrary: '...I,...I->...' is the same contraction",
    _X + "_pearson_rows__mutmut_78": "np.errstate only silences warnings; the values are the same",
    _X + "_pearson_rows__mutmut_79": "np.errstate only silences warnings; the values are the same",
    _X + "_pearson_rows__mutmut_80": "np.errstate only silences warnings; the values are the same",
    _X + "_pearson_rows__mutmut_81": "np.errstate only silences warnings; the values are the same",
    _S + "xǁEvaluationǁpoly__mutmut_1": "any measure other than 'decoder' selects P_joint",
    _S + "xǁEvaluationǁpoly__mutmut_2": "any measure other than 'decoder' selects P_joint",
    _S + "xǁCombinatorialSAEǁcanonical__mutmut_72": _SAME_LEN,
    _S + "xǁCombinatorialSAEǁcanonical__mutmut_75": _SAME_LEN,
    _S + "xǁCombinatorialSAEǁcanonical__mutmut_76": _SAME_LEN,
    _S + "xǁCombinatorialSAEǁbest_response__mutmut_12": "range(0, x) is range(x)",
    _S + "xǁCombinatorialSAEǁevaluate__mutmut_46": "a pmf's support is never empty, so sizes.size ≥ 1",
    _S + "xǁCombinatorialSAEǁevaluate__mutmut_48": "a pmf's support is never empty, so sizes.size ≥ 1",
    _S + "xǁCombinatorialSAEǁatom_matrix__mutmut_3": "Python ints become int64 by default",
    _S + "xǁCombinatorialSAEǁatom_matrix__mutmut_5": "Python ints become int64 by default",
    _S + "xǁCombinatorialSAEǁatom_matrix__mutmut_6": "astype(None) is astype(float64)",
    _S + "xǁCombinatorialSAEǁevaluate__mutmut_17": "astype(None) gives float64 0/1 counts, the same values",
    _S + "xǁCombinatorialSAEǁevaluate__mutmut_35": "astype(None) is astype(float64)",
    _T + "_coverage__mutmut_3": "popcounts become int64 by default",
    _T + "_coverage__mutmut_5": "popcounts become int64 by default",
    _T + "_max_sum_at_most__mutmut_11": _SAME_LEN,
    # Judged after the second full run (tests/unit/test_mutation_kills_*.py kill the rest).
    _S + "xǁCombinatorialSAEǁbest_response__mutmut_44":
        "the keys (error, size, latent tuple) are all distinct (each tuple is visited once), so ≤ and < agree",
    _T + "best_mono_sets__mutmut_1": _NO_PMF,
    _T + "d_min__mutmut_1": _NO_PMF,
    _T + "distortion_tax__mutmut_1": _NO_PMF,
    _T + "max_omission_distortion__mutmut_1": _NO_PMF,
    _T + "min_mono_distortion__mutmut_1": _NO_PMF,
    _T + "omission_distortions__mutmut_2": _NO_PMF,
    _T + "r_star_mono__mutmut_1": _NO_PMF,
    _T + "rate_tax__mutmut_1": _NO_PMF,
    _T + "_dedupe_desc__mutmut_1": "a one-element array takes the general path and is returned whole",
    _T + "_top_sums__mutmut_3": "the event order only steers pruning; the set of sums does not depend on it",
    _T + "_top_sums__mutmut_5": "the event order only steers pruning; the set of sums does not depend on it",
    _T + "_top_sums__mutmut_6": "the event order only steers pruning (the bounds rem follow the same order); the set of sums does not depend on it",
    _T + "_top_sums__mutmut_9": "the event order only steers pruning; the set of sums does not depend on it",
    _T + "_top_sums__mutmut_15": "events sorted by decreasing π·u: the reversed prefix sums bound the true suffix sums from above, so pruning is only weaker",
    _T + "_min_sum_at_least__mutmut_15": "events sorted by decreasing π·u: the reversed prefix sums bound the true suffix sums from above, so pruning is only weaker",
    _T + "_top_sums__mutmut_34": _SAME_LEN,
    _T + "_top_sums__mutmut_37": _SAME_LEN,
    _T + "_top_sums__mutmut_38": _SAME_LEN,
    _T + "_top_sums__mutmut_39": _ZERO_EVENT,
    _T + "_top_sums__mutmut_44": "events sorted by decreasing π·u: after the first zero event all later ones are zero, so break ends the same",
    _T + "_max_sum_at_most__mutmut_5": "a duplicated zero start state is merged by the deduplication",
    _T + "_max_sum_at_most__mutmut_8": _SAME_LEN,
    _T + "_max_sum_at_most__mutmut_12": _SAME_LEN,
    _T + "_max_sum_at_most__mutmut_13": _ZERO_EVENT,
    _T + "example1_predict__mutmut_21": "`<` for `<=` on the rate gap differs only at a gap of exactly the float 1e−12; sums of "
    "probabilities hit it exactly only when all are below 2⁻³⁹, and there a second code of the same family ties at "
    "gap 0 (tried by hand: k = 1, 2)",
    _T + "example1_coefficients__mutmut_21": "c ∈ S lowers the index by 8, and negative indexing of the 8-entry tables reads the same entry",
    _T + "conservation__mutmut_46": "with an empty code the latent never fires, so its atom enters neither R nor D",
    _T + "conservation__mutmut_55": "evaluate reads the code on support events only, and an entry with no latent means none fires",
    _T + "distortion_tax__mutmut_45": "k defaults to None in min_mono_distortion",
    _T + "monosemantic_staircase__mutmut_12": "cap defaults to True in omission_distortions",
    _T + "max_omission_distortion__mutmut_23": "for k = None the head's cap is m ≥ |S ∩ A| (|A| ≤ m), so cap=True changes nothing",
    _T + "max_omission_distortion__mutmut_29": _BRANCH,
    _T + "max_omission_distortion__mutmut_32": _BRANCH,
    _T + "max_omission_distortion__mutmut_71": "the exact branch runs only when δ + TOL > the head's last value ≥ D_min, so best is never None",
    _T + "omission_distortions__mutmut_35": "0 (the empty code) is among every atom set's sums, so an initial 0 in the running top changes nothing",
    _T + "omission_distortions__mutmut_49": "the floor only drops sums that max_steps would cut after the merge (which marks the set truncated too)",
    _T + "omission_distortions__mutmut_56": "top never holds more than max_steps values here, so the floor is never used: as with no floor",
    _T + "omission_distortions__mutmut_66": "the floor only drops sums that max_steps would cut after the merge (which marks the set truncated too)",
    _T + "omission_distortions__mutmut_67": "after any cut the smallest kept sum exceeds 1e−12 (sums are ≥ 0), so every later atom set drops its zero sum and reports truncated itself",
    _X + "_bootstrap_stats__mutmut_45": "kb = c_bᵀ M c_b is a non-negative integer, and at kb = 1 both give 1",
    _X + "_pearson_rows__mutmut_7": _TWO_D,
    _X + "_pearson_rows__mutmut_16": _TWO_D,
    _X + "_pearson_rows__mutmut_54": _TWO_D,
    _X + "_pearson_rows__mutmut_63": _TWO_D,
    _X + "_rho_rows__mutmut_8": _TWO_D,
    _X + "_rho_rows__mutmut_14": _TWO_D,
    _X + "_rho_rows__mutmut_24": _TWO_D,
    _X + "_rho_rows__mutmut_30": _TWO_D,
    _X + "audit_proxy__mutmut_150": "argsort's default axis is −1, axis 1 of the 2-D [P, N] draw",
    _X + "_pearson_rows__mutmut_102": "the placeholder under np.where is used only where ok is False, and those entries become nan",
    **{_X + f"_pearson_rows__mutmut_{i}": _CLIP for i in (104, 105, 110, 111)},
    **{_X + f"_pearson_rows__mutmut_{i}": _RANKS for i in (47, 52, 56, 61, 65, 67, 68, 69, 71, 73, 74, 76)},
    _X + "audit_proxy__mutmut_108": "Generator.integers(n) draws from [0, n) with the same stream as integers(0, n)",
    _X + "audit_proxy__mutmut_167": _GRID,
    _X + "audit_proxy__mutmut_187": "nan_to_num maps nan to 0.0 by default",
    _X + "audit_proxy__mutmut_188": "when ρ is defined neither t nor q is constant, so no permuted ρ is nan",
    _X + "audit_proxy__mutmut_189": ("with N < 10⁴ SAEs the rank sums are exact: equal permuted |ρ| equal |ρ| bit for bit and "
                                     "different ones differ by ≫ 1e−12, so > and ≥ agree against |ρ| − 1e−12"),
}


def _pyproject(files: list[str], tests: list[str]) -> str:
    src = (ROOT / "pyproject.toml").read_text()
    cut = src.find("[tool.mutmut]")
    if cut >= 0:
        src = src[:cut]

    def arr(xs: list[str]) -> str:
        return "[" + ", ".join(json.dumps(x) for x in xs) + "]"

    return src + "\n[tool.mutmut]\n" + "\n".join([
        f"source_paths = {arr(sorted({f.split('/')[0] for f in files}))}",
        f"only_mutate = {arr(files)}",
        f"pytest_add_cli_args_test_selection = {arr(tests)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-q"]',
        f"also_copy = {arr([c for c in COPY if c not in ('rdp_exact', 'audit', 'tests')])}",
    ]) + "\n"


def prepare(files: list[str], keep: bool) -> None:
    """Fresh copy of the sources and tests in build/mutation (unless ``keep`` and it exists)."""
    if keep and (WORK / "mutants").exists():
        return
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, WORK / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, WORK / name)
    tests = sorted({t for f in files for t in FILES[f]})
    (WORK / "pyproject.toml").write_text(_pyproject(files, tests))


def survivors() -> list[str]:
    """Names of the mutants of the last run that survived, were suspicious or had no test."""
    from mutmut.stats import status_by_exit_code

    names = []
    for meta in sorted((WORK / "mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if status_by_exit_code[code] in ("survived", "suspicious", "no tests"):
                names.append(name)
    return names


def refresh_tests(files: list[str]) -> None:
    """Copy the selected test files (as they are now) into build/mutation and its mutants/ copy, and drop
    mutmut's record of which tests cover which function, so that the next run maps the new tests too
    (mutmut runs only the tests recorded as covering a mutant)."""
    (WORK / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for t in sorted({t for f in files for t in FILES[f]}):
        for base in (WORK, WORK / "mutants"):
            if base.exists():
                (base / t).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / t, base / t)


#: 1-minute load averages sampled every :data:`LOAD_EVERY` seconds during each ``mutmut run``, by run.
LOAD_SAMPLES: dict[str, list[float]] = {}
LOAD_EVERY = 15.0


def _sample_load(label: str, stop: threading.Event) -> None:
    """Append the 1-minute load average to ``LOAD_SAMPLES[label]`` every LOAD_EVERY s until ``stop``."""
    samples = LOAD_SAMPLES.setdefault(label, [])
    while True:
        samples.append(os.getloadavg()[0])
        if stop.wait(LOAD_EVERY):
            return


def load_summary(label: str) -> dict[str, float] | None:
    """{min, mean, max} of the load averages sampled during run ``label`` (None if none)."""
    xs = LOAD_SAMPLES.get(label) or []
    if not xs:
        return None
    return {"min": round(min(xs), 2), "mean": round(sum(xs) / len(xs), 2), "max": round(max(xs), 2),
            "samples": len(xs)}


def run_mutmut(max_children: int, names: list[str] | None = None, label: str = "run") -> float:
    """``mutmut run`` (only ``names`` when given) in build/mutation; returns its wall time in seconds and
    records the machine's load average meanwhile (``LOAD_SAMPLES[label]``)."""
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    mutmut = Path(sys.executable).with_name("mutmut")
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_load, args=(label, stop), daemon=True)
    t0 = time.perf_counter()
    sampler.start()
    try:
        with open(WORK / "mutmut-run.log", "w") as log:  # mutmut's progress line, kept out of the terminal
            subprocess.run([str(mutmut), "run", "--max-children", str(max_children), *(names or [])], cwd=WORK,
                           env=env, check=False, stdout=log, stderr=subprocess.STDOUT)
    finally:
        stop.set()
        sampler.join()
    return time.perf_counter() - t0


def _diffs(names: list[str]) -> dict[str, str]:
    """The diff of each mutant, from mutmut's own API in one process (``mutmut show`` per mutant costs
    about a second each)."""
    if not names:
        return {}
    code = (
        "import json, sys\n"
        "from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant\n"
        "out = {}\n"
        "for n in json.loads(sys.stdin.read()):\n"
        "    try:\n"
        "        out[n] = get_diff_for_mutant(n, path=find_mutant(n).path)\n"
        "    except Exception as exc:\n"
        "        out[n] = f'(no diff: {exc})'\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=WORK, input=json.dumps(names), capture_output=True,
                         text=True, check=False)
    try:
        return json.loads(res.stdout)
    except json.JSONDecodeError:
        return {n: "(no diff)" for n in names}


def collect(files: list[str]) -> dict[str, dict[str, object]]:
    """Per file: counts by status and the survivors (name, diff, equivalent reason or None)."""
    from mutmut.stats import status_by_exit_code

    out: dict[str, dict[str, object]] = {}
    for f in files:
        meta = WORK / "mutants" / (f + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        counts: dict[str, int] = {}
        survivors = []
        for name, code in sorted(codes.items()):
            status = status_by_exit_code[code]
            counts[status] = counts.get(status, 0) + 1
            if status in ("survived", "suspicious", "no tests"):
                survivors.append({"name": name, "status": status, "equivalent": EQUIVALENT.get(name), "diff": ""})
        diffs = _diffs([s["name"] for s in survivors])
        for s in survivors:
            s["diff"] = diffs.get(s["name"], "").strip()
        total = len(codes)
        checked = total - counts.get("not checked", 0)
        equivalent = sum(1 for s in survivors if s["equivalent"])
        killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("caught by type check", 0)
        denom = checked - equivalent
        out[f] = {"mutants": total, "checked": checked, "counts": counts, "killed": killed,
                  "equivalent": equivalent, "score": (killed / denom) if denom else None,
                  "survivors": survivors}
    return out


def _load_words(load: dict[str, float] | None) -> str:
    """"1-minute load average min–max (mean, samples)" of a :func:`load_summary`, or a fallback."""
    if not load:
        return "load average not sampled"
    return (f"1-minute load average {load['min']:.1f}–{load['max']:.1f} (mean {load['mean']:.1f}, "
            f"{int(load['samples'])} samples)")


def write(results: dict[str, dict[str, object]], seconds: float, max_children: int, rerun_seconds: float | None = None,
          rerun_mutants: int = 0, rerun_children: int | None = None, load_full: dict[str, float] | None = None,
          load_rerun: dict[str, float] | None = None) -> None:
    """bench-results/mutation.json and mutation.md, with the run times and the load measured during them."""
    OUT.mkdir(exist_ok=True)
    load = os.getloadavg()
    cpus = os.cpu_count() or 1
    doc = {"tool": "mutmut 3.8.1", "seconds": round(seconds, 1), "max_children": max_children,
           "rerun_seconds": None if rerun_seconds is None else round(rerun_seconds, 1), "rerun_mutants": rerun_mutants,
           "rerun_max_children": rerun_children, "load_full_run": load_full, "load_rerun": load_rerun,
           "loadavg_1_5_15": [round(x, 2) for x in load], "cpus": cpus, "files": results}
    (OUT / "mutation.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    peak = max([x["mean"] for x in (load_full, load_rerun) if x] or [load[0]])
    busy = peak > 0.5 * cpus
    lines = ["# Mutation score of the core (mutmut 3.8.1)", "",
             f"Run time {seconds / 60:.1f} min with {max_children} worker(s) on {cpus} CPUs; {_load_words(load_full)} "
             "during the run" + (" — **the machine was busy: times are not representative**." if busy else "."),
             "" if rerun_seconds is None else f"Then {rerun_mutants} survivors and untested mutants re-run against the "
             f"added tests (`--rerun-survivors`, {rerun_children or max_children} worker(s)): {rerun_seconds / 60:.1f} min, "
             f"{_load_words(load_rerun)}.",
             "Score = killed (including timeouts) / (checked − equivalent). Not part of `make test`; run "
             "`make mutation`.", "",
             "| file | mutants | checked | killed | survived | equivalent | not checked | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for f, r in results.items():
        c = cast(dict[str, int], r["counts"])
        score = "—" if r["score"] is None else f"{100 * r['score']:.1f} %"  # type: ignore[operator]
        lines.append(f"| {f} | {r['mutants']} | {r['checked']} | {r['killed']} | {c.get('survived', 0)} | "
                     f"{r['equivalent']} | {c.get('not checked', 0)} | {score} |")
    for f, r in results.items():
        surv = r["survivors"]
        if not surv:
            continue
        lines += ["", f"## Survivors in {f}", ""]
        for s in surv:  # type: ignore[attr-defined]
            why = f"equivalent: {s['equivalent']}" if s["equivalent"] else f"**{s['status']}**"
            lines += [f"- `{s['name']}` — {why}", "", "```diff", s["diff"], "```", ""]
    (OUT / "mutation.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", nargs="*", default=list(FILES), choices=list(FILES))
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="reuse build/mutation and mutmut's results")
    ap.add_argument("--rerun-survivors", action="store_true",
                    help="re-run the survivors of the last run against the current tests")
    ap.add_argument("--first-run-seconds", type=float, default=None,
                    help="wall time of the full run to report (default: from bench-results/mutation.json)")
    ap.add_argument("--first-run-children", type=int, default=None, help="workers of the full run to report")
    args = ap.parse_args(argv)
    if args.rerun_survivors:
        previous = json.loads((OUT / "mutation.json").read_text())
        seconds = args.first_run_seconds if args.first_run_seconds is not None else float(previous["seconds"])
        refresh_tests(args.files)
        names = survivors()
        rerun = run_mutmut(args.max_children, names, label="rerun") if names else 0.0
        results = collect(args.files)
        write(results, seconds, args.first_run_children or previous.get("max_children") or args.max_children, rerun,
              len(names), args.max_children, load_full=previous.get("load_full_run"), load_rerun=load_summary("rerun"))
    else:
        prepare(args.files, args.keep)
        seconds = run_mutmut(args.max_children, label="full")
        results = collect(args.files)
        write(results, seconds, args.max_children, load_full=load_summary("full"))
    for f, r in results.items():
        score = "—" if r["score"] is None else f"{100 * r['score']:.1f} %"  # type: ignore[operator]
        print(f"{f}: {r['killed']}/{r['checked']} killed, score {score}")
    print(f"mutation run: {seconds / 60:.1f} min; report in bench-results/mutation.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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
what to do after adding tests that kill survivors; the report then gives both run times).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
OUT = ROOT / "bench-results"

#: Modules mutated, with the tests that cover them (the fast tiers; each mutant runs only the tests
#: that execute its function, as recorded by mutmut's coverage pass).
FILES: dict[str, tuple[str, ...]] = {
    "rdp_exact/sae.py": ("tests/unit/test_sae.py", "tests/unit/test_mutation_core.py"),
    "rdp_exact/polysemanticity.py": ("tests/unit/test_sae.py", "tests/unit/test_mutation_core.py"),
    "rdp_exact/theory.py": ("tests/unit/test_theory.py", "tests/unit/test_mutation_core.py"),
    "audit/proxies.py": ("tests/unit/test_proxies.py", "tests/unit/test_mutation_core.py"),
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
    """Copy the selected test files (as they are now) into build/mutation and its mutants/ copy."""
    for t in sorted({t for f in files for t in FILES[f]}):
        for base in (WORK, WORK / "mutants"):
            if base.exists():
                (base / t).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / t, base / t)


def run_mutmut(max_children: int, names: list[str] | None = None) -> float:
    """``mutmut run`` (only ``names`` when given) in build/mutation; returns its wall time in seconds."""
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    mutmut = Path(sys.executable).with_name("mutmut")
    t0 = time.perf_counter()
    with open(WORK / "mutmut-run.log", "w") as log:  # mutmut's progress line, kept out of the terminal
        subprocess.run([str(mutmut), "run", "--max-children", str(max_children), *(names or [])], cwd=WORK, env=env,
                       check=False, stdout=log, stderr=subprocess.STDOUT)
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


def write(results: dict[str, dict[str, object]], seconds: float, max_children: int, rerun_seconds: float | None = None,
          rerun_mutants: int = 0, rerun_children: int | None = None) -> None:
    """bench-results/mutation.json and mutation.md."""
    OUT.mkdir(exist_ok=True)
    load = os.getloadavg()
    doc = {"tool": "mutmut 3.8.1", "seconds": round(seconds, 1), "max_children": max_children,
           "rerun_seconds": None if rerun_seconds is None else round(rerun_seconds, 1), "rerun_mutants": rerun_mutants,
           "rerun_max_children": rerun_children,
           "loadavg_1_5_15": [round(x, 2) for x in load], "cpus": os.cpu_count(), "files": results}
    (OUT / "mutation.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    busy = load[0] > 0.5 * (os.cpu_count() or 1)
    lines = ["# Mutation score of the core (mutmut 3.8.1)", "",
             f"Run time {seconds / 60:.1f} min with {max_children} worker(s); load average {load[0]:.1f} on "
             f"{os.cpu_count()} CPUs" + (" — **the machine was busy: times are not representative**." if busy else "."),
             "" if rerun_seconds is None else f"Then {rerun_mutants} survivors and untested mutants re-run against the "
             f"added tests (`--rerun-survivors`, {rerun_children or max_children} worker(s)): {rerun_seconds / 60:.1f} min.",
             "Score = killed (including timeouts) / (checked − equivalent). Not part of `make test`; run "
             "`make mutation`.", "",
             "| file | mutants | checked | killed | survived | equivalent | not checked | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for f, r in results.items():
        c = r["counts"]
        score = "—" if r["score"] is None else f"{100 * r['score']:.1f} %"  # type: ignore[operator]
        lines.append(f"| {f} | {r['mutants']} | {r['checked']} | {r['killed']} | {c.get('survived', 0)} | "  # type: ignore[union-attr]
                     f"{r['equivalent']} | {c.get('not checked', 0)} | {score} |")  # type: ignore[union-attr]
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
        if args.first_run_seconds is not None:
            seconds = args.first_run_seconds
        else:
            seconds = float(json.loads((OUT / "mutation.json").read_text())["seconds"])
        refresh_tests(args.files)
        names = survivors()
        rerun = run_mutmut(args.max_children, names) if names else 0.0
        results = collect(args.files)
        write(results, seconds, args.first_run_children or args.max_children, rerun, len(names), args.max_children)
    else:
        prepare(args.files, args.keep)
        seconds = run_mutmut(args.max_children)
        results = collect(args.files)
        write(results, seconds, args.max_children)
    for f, r in results.items():
        score = "—" if r["score"] is None else f"{100 * r['score']:.1f} %"  # type: ignore[operator]
        print(f"{f}: {r['killed']}/{r['checked']} killed, score {score}")
    print(f"mutation run: {seconds / 60:.1f} min; report in bench-results/mutation.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

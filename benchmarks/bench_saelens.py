"""rdp's batched training side by side with SAELens, in one run (issue 16).

``python -m benchmarks.bench_saelens [--quick] [--saelens-python .venv-saelens/bin/python]``
(``make bench-saelens`` builds the scratch SAELens environment first; SAELens is never a dependency of rdp).

Instance (SAELens' toy benchmark): n = 8 concepts firing independently with p = 0.2 and magnitude 1
(binary), orthonormal directions in d = 16, TopK with m = 8 latents and k = 2, batch 1024, Adam lr 3e-3,
float32, CPU. For each thread count (1 and 2) it measures, in this order:

* SAELens 6.x ``train_toy_sae``, one SAE (``benchmarks/saelens_toy.py``, run by the scratch environment's
  interpreter in a subprocess with the same thread count);
* rdp :func:`sae_train.train.train`, sampled objective, for 1, 16, 256 and 1,024 SAEs (seeds 0..B−1);
* rdp at 256 SAEs with ``compress_batch=False`` (every one of the 1,024 rows evaluated, as before this
  issue) and with ``objective='expected'`` (the π-weighted loss over the 256 support events, closed form);
* the objective comparison at 256 SAEs (:func:`compare_objectives`): sampled with compressed batches, sampled
  with full 1,024-row batches, expected in closed form and expected by autograd over the support rows, run
  in interleaved rounds in the same minutes (one thread, half the steps of the other rows, three rounds);
  the expected-vs-sampled ratios (target ≥ 5×, judged on mean throughput) come from this block and are also
  given from the median and the minimum time of one step (robust to load spikes).

Throughput is SAE-steps per second of the optimisation steps alone (rdp: ``TrainResult.train_time_s``;
SAELens: the whole ``train_toy_sae`` call after a warm-up call, so its setup counts against it). Ratios are
against SAELens's one-SAE throughput at the same thread count, measured in the same run. A final block
trains 16 SAEs for 2,000 steps (one thread) with the sampled and the expected objective on the same seeds and
reports the final exact distortion D of each (rdp evaluates D exactly on this DGP).

The 1-minute load average is recorded before everything and around each measurement; above 0.5 the
numbers measure contention too (the report says so). Results: ``bench-results/bench_saelens.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rdp_exact.generators import independent
from rdp_exact.io_utils import atomic_write_text
from sae_train.data import DGP
from sae_train.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"
SAELENS_SCRIPT = ROOT / "benchmarks" / "saelens_toy.py"
DEFAULT_SAELENS_PY = ROOT / ".venv-saelens" / "bin" / "python"
IDLE_LOAD = 0.5
#: (SAEs, threads) → target ratio to SAELens's one-SAE throughput.
TARGETS: dict[tuple[int, int], float] = {(256, 2): 20.0, (256, 1): 10.0}
#: Expected objective vs sampled (compressed and dense 1,024-row batches) at 256 SAEs, equal steps.
EXPECTED_TARGET = 5.0

N_CONCEPTS, P_FIRE, D_IN, WIDTH, K, BATCH, LR = 8, 0.2, 16, 8, 2, 1024, 3e-3


def toy_dgp() -> DGP:
    """The SAELens toy instance as an rdp DGP (independent Bernoulli(0.2) concepts, orthonormal in d = 16)."""
    return DGP.make(independent([P_FIRE] * N_CONCEPTS), D_IN, seed=0)


def toy_config(saes: int, steps: int, threads: int, *, device: str = "cpu", **kw: Any) -> TrainConfig:
    """TopK, m = 8, k = 2, batch 1024, lr 3e-3, float32, seeds 0..saes−1 (CPU unless ``device``)."""
    return TrainConfig(arch="topk", width=WIDTH, k=(K,), steps=steps, seeds=tuple(range(saes)), lr=(LR,),
                       batch_size=BATCH, device=device, dtype="float32", threads=threads, eval_samples=2, **kw)


def _load() -> float:
    return os.getloadavg()[0]


def measure_saelens(python: Path, threads: int, steps: int) -> dict[str, Any]:
    """SAELens's one-SAE throughput at ``threads`` (a subprocess of the scratch environment)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    proc = subprocess.run([str(python), str(SAELENS_SCRIPT), "--threads", str(threads), "--steps", str(steps)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"SAELens run failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_rdp(dgp: DGP, saes: int, steps: int, threads: int, label: str, **kw: Any) -> dict[str, Any]:
    """rdp's throughput for ``saes`` SAEs (after a 3-step warm-up) and the mean final exact D."""
    train(dgp, toy_config(saes, 3, threads, **kw))
    load0 = _load()
    res = train(dgp, toy_config(saes, steps, threads, **kw))
    ds = [m.distortion for m in res.metrics]
    return {
        "method": label,
        "saes": saes,
        "threads": threads,
        "steps": steps,
        "time_s": res.train_time_s,
        "sae_steps_per_s": saes * steps / res.train_time_s,
        "mean_D": statistics.fmean(ds),
        "load_before": load0,
        "load_after": _load(),
    }


#: The variants of :func:`compare_objectives`: label → TrainConfig overrides.
OBJECTIVE_VARIANTS: dict[str, dict[str, Any]] = {
    "sampled, compressed": {},
    "sampled, dense rows": {"compress_batch": False},
    "expected, closed form": {"objective": "expected"},
    "expected, autograd": {"objective": "expected", "closed_form": False},
}


def _stamper(stamps: list[float]) -> Any:
    """A progress callback appending ``time.perf_counter()`` after every step."""
    return lambda _step: stamps.append(time.perf_counter())


def compare_objectives(dgp: DGP, saes: int, steps: int, threads: int, rounds: int) -> dict[str, Any]:
    """Every :data:`OBJECTIVE_VARIANTS` entry, ``rounds`` interleaved rounds of ``steps`` steps each (dense rows:
    steps // 4, they are slow), timing every step through the progress callback. Returns per variant the best
    round's mean throughput and the median / minimum step time, and the expected (closed form) / other ratios
    by the three measures (the minimum step is the least disturbed by other jobs on a shared machine)."""
    times: dict[str, list[float]] = {v: [] for v in OBJECTIVE_VARIANTS}
    tput: dict[str, list[float]] = {v: [] for v in OBJECTIVE_VARIANTS}
    load0 = _load()
    for _ in range(rounds):
        for label, kw in OBJECTIVE_VARIANTS.items():
            n = max(2, steps // 4) if kw.get("compress_batch") is False else steps
            train(dgp, toy_config(saes, 3, threads, **kw))  # warm-up
            stamps: list[float] = []
            res = train(dgp, toy_config(saes, n, threads, **kw), progress=_stamper(stamps))
            times[label] += [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
            tput[label].append(saes * n / res.train_time_s)
    out: dict[str, Any] = {"saes": saes, "threads": threads, "steps": steps, "rounds": rounds,
                           "load_before": load0, "load_after": _load(), "variants": {}, "ratios": []}
    for label in OBJECTIVE_VARIANTS:
        out["variants"][label] = {"sae_steps_per_s": max(tput[label]),
                                  "step_ms_median": 1e3 * statistics.median(times[label]),
                                  "step_ms_min": 1e3 * min(times[label])}
    exp = out["variants"]["expected, closed form"]
    for ref in ("sampled, compressed", "sampled, dense rows", "expected, autograd"):
        r = out["variants"][ref]
        out["ratios"].append({"vs": ref, "by_throughput": exp["sae_steps_per_s"] / r["sae_steps_per_s"],
                              "by_median_step": r["step_ms_median"] / exp["step_ms_median"],
                              "by_min_step": r["step_ms_min"] / exp["step_ms_min"]})
    return out


def converge(dgp: DGP, saes: int, steps: int, threads: int) -> list[dict[str, Any]]:
    """Sampled vs expected objective, same seeds and steps: throughput and final exact D per objective."""
    out = []
    for objective in ("sampled", "expected"):
        load0 = _load()
        res = train(dgp, toy_config(saes, steps, threads, objective=objective))
        ds = [m.distortion for m in res.metrics]
        out.append({
            "objective": objective,
            "saes": saes,
            "threads": threads,
            "steps": steps,
            "sae_steps_per_s": saes * steps / res.train_time_s,
            "D_mean": statistics.fmean(ds),
            "D_median": statistics.median(ds),
            "D_min": min(ds),
            "D_max": max(ds),
            "dead_mean": statistics.fmean(m.dead for m in res.metrics),
            "load_before": load0,
            "load_after": _load(),
        })
    return out


def run(python: Path, *, steps: int, saelens_steps: int, sizes: list[int], threads: list[int],
        converge_saes: int, converge_steps: int, compare_rounds: int = 3) -> dict[str, Any]:
    """Every measurement of the module docstring; a JSON-ready report."""
    load_start = _load()
    dgp = toy_dgp()
    rows: list[dict[str, Any]] = []
    saelens: dict[int, dict[str, Any]] = {}
    for t in threads:
        torch.set_num_threads(t)
        saelens[t] = measure_saelens(python, t, saelens_steps)
        base = saelens[t]["sae_steps_per_s"]
        for B in sizes:
            rows.append(measure_rdp(dgp, B, steps, t, "rdp sampled"))
        rows.append(measure_rdp(dgp, 256, steps, t, "rdp sampled, dense rows", compress_batch=False))
        rows.append(measure_rdp(dgp, 256, steps, t, "rdp expected", objective="expected"))
        for r in rows:
            if r["threads"] == t:
                r["ratio_to_saelens"] = r["sae_steps_per_s"] / base
    torch.set_num_threads(min(threads))
    objectives = compare_objectives(dgp, 256, steps // 2, min(threads), compare_rounds)
    conv = converge(dgp, converge_saes, converge_steps, min(threads))
    targets = []
    for (B, t), target in TARGETS.items():
        hit = [r for r in rows if r["saes"] == B and r["threads"] == t and r["method"] == "rdp sampled"]
        if hit:
            ratio = hit[0]["ratio_to_saelens"]
            targets.append({"what": f"{B} SAEs, {t} thread(s) vs SAELens one SAE", "target": target,
                            "measured": ratio, "met": ratio >= target})
    for r in objectives["ratios"][:2]:  # expected (closed form) vs the two sampled variants, same run
        ratio = r["by_throughput"]
        targets.append({"what": f"expected vs {r['vs']}, 256 SAEs, {objectives['threads']} thread(s), equal steps",
                        "target": EXPECTED_TARGET, "measured": ratio, "met": ratio >= EXPECTED_TARGET})
    return {
        "benchmark": "bench_saelens",
        "instance": {"n": N_CONCEPTS, "p": P_FIRE, "d": D_IN, "m": WIDTH, "k": K, "batch": BATCH, "lr": LR,
                     "arch": "topk", "magnitudes": "binary", "support_events": len(dgp.pmf.probs)},
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_start": load_start,
        "idle": load_start < IDLE_LOAD,
        "saelens": saelens,
        "results": rows,
        "objectives": objectives,
        "converge": conv,
        "targets": targets,
    }


def to_markdown(rep: dict[str, Any]) -> str:
    """Summary tables."""
    inst = rep["instance"]
    sl = next(iter(rep["saelens"].values()))
    lines = [
        "# bench_saelens: rdp batched training vs SAELens `train_toy_sae`",
        "",
        f"Instance: n = {inst['n']} concepts, p = {inst['p']}, binary magnitudes, orthonormal in d = {inst['d']} "
        f"({inst['support_events']} support events), TopK m = {inst['m']}, k = {inst['k']}, batch {inst['batch']}, "
        f"lr {inst['lr']}, float32, CPU. SAELens {sl['sae_lens']}, torch {rep['torch']}, {rep['cpu_count']} CPUs. "
        f"Load average at start {rep['load_start']:.2f} "
        f"({'idle' if rep['idle'] else 'BUSY: numbers include contention from other jobs'}).",
        "",
        "| method | SAEs | threads | SAE-steps/s | × SAELens | load before/after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t, s in rep["saelens"].items():
        lines.append(f"| SAELens `train_toy_sae` | 1 | {t} | {s['sae_steps_per_s']:,.0f} | 1.0× | "
                     f"{s['load_before']:.2f}/{s['load_after']:.2f} |")
    for r in rep["results"]:
        lines.append(f"| {r['method']} | {r['saes']:,} | {r['threads']} | {r['sae_steps_per_s']:,.0f} | "
                     f"{r['ratio_to_saelens']:.1f}× | {r['load_before']:.2f}/{r['load_after']:.2f} |")
    ob = rep.get("objectives")
    if ob:
        lines += ["", f"Objectives at {ob['saes']} SAEs, {ob['threads']} thread(s), {ob['rounds']} interleaved rounds "
                      f"(load {ob['load_before']:.2f} → {ob['load_after']:.2f}):", "",
                  "| variant | SAE-steps/s (best round) | step ms (median) | step ms (min) |", "|---|---:|---:|---:|"]
        for label, v in ob["variants"].items():
            lines.append(f"| {label} | {v['sae_steps_per_s']:,.0f} | {v['step_ms_median']:.2f} | {v['step_ms_min']:.2f} |")
        lines += ["", "| expected (closed form) vs | × by throughput | × by median step | × by min step |",
                  "|---|---:|---:|---:|"]
        for r in ob["ratios"]:
            lines.append(f"| {r['vs']} | {r['by_throughput']:.2f}× | {r['by_median_step']:.2f}× | "
                         f"{r['by_min_step']:.2f}× |")
    c = rep["converge"]
    if c:
        lines += ["", f"Sampled vs expected objective, {c[0]['saes']} SAEs (seeds 0..{c[0]['saes'] - 1}), "
                      f"{c[0]['steps']:,} steps, {c[0]['threads']} thread(s); final exact D over the SAEs:", "",
                  "| objective | SAE-steps/s | D mean | D median | D min | D max | dead latents (mean) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in c:
            lines.append(f"| {r['objective']} | {r['sae_steps_per_s']:,.0f} | {r['D_mean']:.4f} | "
                         f"{r['D_median']:.4f} | {r['D_min']:.4f} | {r['D_max']:.4f} | {r['dead_mean']:.2f} |")
    lines += ["", "| target | needed | measured | |", "|---|---:|---:|---|"]
    for tg in rep["targets"]:
        lines.append(f"| {tg['what']} | ≥ {tg['target']:.0f}× | {tg['measured']:.1f}× | "
                     f"{'met' if tg['met'] else '**not met**'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    ap.add_argument("--saelens-python", default=str(DEFAULT_SAELENS_PY),
                    help="interpreter of the scratch SAELens environment (make saelens-env)")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                    help=f"first wait up to SECONDS for the load average to drop below {IDLE_LOAD}")
    args = ap.parse_args(argv)
    python = Path(args.saelens_python)
    if not python.exists():
        print(f"bench_saelens: no SAELens environment at {python} (run `make saelens-env`)", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.wait_idle
    while _load() >= IDLE_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    load = _load()
    if load >= IDLE_LOAD:
        print(f"bench_saelens: load average {load:.2f} ≥ {IDLE_LOAD}: the machine is busy, numbers will include "
              "contention", file=sys.stderr)
    quick = args.quick
    rep = run(python, steps=20 if quick else 300, saelens_steps=20 if quick else 300,
              sizes=[1, 16, 256] if quick else [1, 16, 256, 1024], threads=[1, 2],
              converge_saes=4 if quick else 16, converge_steps=50 if quick else 2000,
              compare_rounds=1 if quick else 3)
    rep["quick"] = quick
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "bench_saelens.json", json.dumps(rep, indent=2) + "\n")
    md = to_markdown(rep)
    atomic_write_text(out / "bench_saelens.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of batched SAE training versus the one-SAE-at-a-time loop (DESIGN §6, §8).

``python -m benchmarks.bench_train [--quick] [--device cpu|cuda]``

For B = 1, 16, 256 SAEs (TopK, pmf ``pairs6``, d = n = 6, m = 8, k = 2, batch 256) it measures, in the
same process and under explicitly set torch thread counts (1 and 2 on CPU):

* batched: SAE-steps per second of :func:`sae_train.train.train` (the optimisation steps only);
* loop: SAE-steps per second of :func:`sae_train.train.train_loop_reference` (measured on at most
  ``loop_saes`` of the B SAEs; its throughput does not depend on B);
* the ratio batched / loop (target ≥ 20× at B = 256 on CPU).

The 1-minute load average is recorded before and after each measurement; numbers taken on a busy
machine measure contention, so ``idle`` says whether the load was below 0.5 at the start. Results go to
``bench-results/bench_train.{json,md}`` (``bench_train_cuda.{json,md}`` with ``--device cuda``).

``--big SAES STEPS`` adds one timed run of SAES SAEs for STEPS steps on the SAELens toy instance of
``bench_saelens`` (n = 8, p = 0.2, d = 16, m = 8, k = 2, batch 1024), sampled and expected objectives; the
issue-16 GPU target is 10,000 SAEs × 5,000 steps in at most 60 s (``benchmarks/gpu_train.sh`` runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from rdp_exact.generators import builtin
from rdp_exact.io_utils import atomic_write_text
from sae_train.data import DGP
from sae_train.train import TrainConfig, resolve_device, train, train_loop_reference

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"
TARGET_RATIO = 20.0


def _cfg(B: int, steps: int, device: str) -> TrainConfig:
    return TrainConfig(arch="topk", width=8, k=(2,), steps=steps, seeds=tuple(range(B)), batch_size=256,
                       device=device, lr=(1e-2,))


def measure(B: int, steps: int, loop_saes: int, device: str, threads: int) -> dict[str, Any]:
    """One (B, threads) point: batched and loop throughput and their ratio."""
    torch.set_num_threads(threads)
    dgp = DGP.make(builtin("pairs6"), seed=0)
    load0 = os.getloadavg()[0]
    train(dgp, _cfg(B, 3, device))  # warm-up (allocator, kernels)
    train_loop_reference(dgp, _cfg(1, 3, device))
    res = train(dgp, _cfg(B, steps, device))
    batched = B * steps / res.train_time_s
    L = min(B, loop_saes)
    t = time.perf_counter()
    train_loop_reference(dgp, _cfg(L, steps, device))
    if device == "cuda":
        torch.cuda.synchronize()
    loop_s = time.perf_counter() - t
    loop = L * steps / loop_s
    return {
        "saes": B,
        "threads": threads,
        "device": device,
        "steps": steps,
        "batched_sae_steps_per_s": batched,
        "batched_time_s": res.train_time_s,
        "loop_saes_measured": L,
        "loop_sae_steps_per_s": loop,
        "loop_time_s": loop_s,
        "ratio": batched / loop,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }


def measure_big(saes: int, steps: int, device: str) -> list[dict[str, Any]]:
    """Wall time of ``saes`` SAEs × ``steps`` steps on the SAELens toy instance, per objective."""
    from benchmarks.bench_saelens import toy_config, toy_dgp

    dgp = toy_dgp()
    out = []
    for objective in ("sampled", "expected"):
        train(dgp, toy_config(saes, 3, 0, device=device, objective=objective))  # warm-up
        cfg = toy_config(saes, steps, 0, device=device, objective=objective)
        res = train(dgp, cfg)
        out.append({"saes": saes, "steps": steps, "objective": objective, "device": device,
                    "train_time_s": res.train_time_s, "wall_time_s": res.wall_time_s,
                    "sae_steps_per_s": saes * steps / res.train_time_s,
                    "mean_D": sum(m.distortion for m in res.metrics) / saes})
    return out


def to_markdown(report: dict[str, Any]) -> str:
    """Summary table."""
    lines = [
        "# bench_train: batched SAE training vs one-at-a-time loop",
        "",
        f"TopK, pmf pairs6 (n = d = 6), m = 8, k = 2, batch 256; device {report['device']}; "
        f"torch {report['torch']}; {'quick' if report['quick'] else 'full'} settings; "
        f"load average at start {report['load_start']:.2f} ({'idle' if report['idle'] else 'BUSY: numbers are contended'}).",
        "",
        "| SAEs | threads | batched SAE-steps/s | loop SAE-steps/s (SAEs timed) | ratio | load before/after |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['saes']} | {r['threads']} | {r['batched_sae_steps_per_s']:.0f} | "
            f"{r['loop_sae_steps_per_s']:.0f} ({r['loop_saes_measured']}) | {r['ratio']:.1f}× | "
            f"{r['load_before']:.2f}/{r['load_after']:.2f} |"
        )
    big = [r for r in report["results"] if r["saes"] == max(report["sizes"])]
    if big:
        best = max(r["ratio"] for r in big)
        lines += ["", f"Target: ≥ {TARGET_RATIO:.0f}× at {max(report['sizes'])} SAEs — best measured {best:.1f}× "
                      f"({'met' if best >= TARGET_RATIO else 'NOT met'})."]
    for r in report.get("big", []):
        lines.append(f"\nSAELens toy instance, {r['saes']:,} SAEs × {r['steps']:,} steps, {r['objective']} objective "
                     f"on {r['device']}: {r['train_time_s']:.1f} s of steps ({r['sae_steps_per_s']:,.0f} SAE-steps/s), "
                     f"mean final D {r['mean_D']:.4f}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few steps, few loop SAEs (smoke test)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    ap.add_argument("--big", nargs=2, type=int, metavar=("SAES", "STEPS"),
                    help="also time SAES SAEs × STEPS steps on the SAELens toy instance")
    args = ap.parse_args(argv)
    resolve_device(args.device)
    sizes = [1, 16, 256]
    steps = 10 if args.quick else 200
    loop_saes = 4 if args.quick else 16
    threads = [1, 2] if args.device == "cpu" else [1]
    load_start = os.getloadavg()[0]
    results = [measure(B, steps, loop_saes, args.device, t) for t in threads for B in sizes]
    report = {
        "benchmark": "bench_train",
        "quick": args.quick,
        "device": args.device,
        "cuda_name": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_start": load_start,
        "idle": load_start < 0.5,
        "sizes": sizes,
        "target_ratio": TARGET_RATIO,
        "results": results,
        "big": measure_big(args.big[0], args.big[1], args.device) if args.big else [],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "bench_train" if args.device == "cpu" else "bench_train_cuda"
    atomic_write_text(out / f"{name}.json", json.dumps(report, indent=2) + "\n")
    md = to_markdown(report)
    atomic_write_text(out / f"{name}.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

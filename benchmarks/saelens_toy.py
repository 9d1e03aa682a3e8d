"""SAELens side of ``bench_saelens``: time SAELens' ``train_toy_sae`` on the toy instance, one SAE.

Run by the scratch environment's interpreter, never by rdp's (SAELens is not a dependency of rdp)::

    .venv-saelens/bin/python benchmarks/saelens_toy.py --threads 1 --steps 300

Instance (SAELens' toy benchmark): n = 8 features firing independently with p = 0.2 and magnitude 1
(binary), orthogonal feature directions in d = 16, TopK SAE with m = 8 latents and k = 2, batch 1024,
Adam lr 3e-3, float32, CPU. Prints one JSON object on stdout: the SAELens version, the thread count, the
steps timed and the SAE-steps per second of the timed run (after a short warm-up run). This file imports
nothing from rdp.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    import sae_lens
    from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.synthetic import ActivationGenerator, FeatureDictionary, train_toy_sae

    n, d, m, k, batch, lr = 8, 16, 8, 2, 1024, 3e-3

    def run(steps: int) -> float:
        torch.manual_seed(args.seed)
        fd = FeatureDictionary(num_features=n, hidden_dim=d, seed=args.seed)
        gen = ActivationGenerator(num_features=n, firing_probabilities=0.2, std_firing_magnitudes=0.0,
                                  mean_firing_magnitudes=1.0)
        sae = TopKTrainingSAE(TopKTrainingSAEConfig(k=k, d_in=d, d_sae=m, dtype="float32", device="cpu"))
        t0 = time.perf_counter()
        train_toy_sae(sae, fd, gen, training_samples=steps * batch, batch_size=batch, lr=lr, device="cpu")
        return time.perf_counter() - t0

    run(args.warmup)
    load0 = os.getloadavg()[0]
    wall = run(args.steps)
    print(json.dumps({
        "sae_lens": sae_lens.__version__,
        "torch": torch.__version__,
        "threads": args.threads,
        "steps": args.steps,
        "time_s": wall,
        "sae_steps_per_s": args.steps / wall,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()

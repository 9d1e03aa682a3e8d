#!/usr/bin/env bash
# Batched-training benchmark and GPU tests on a CUDA machine (run from the repository root):
#   bash benchmarks/gpu_train.sh [--quick]
# 1. the @pytest.mark.gpu tests of sae_train (CUDA run = CPU run, expected objective on CUDA);
# 2. bench_train on CUDA, plus the issue-16 target run: 10,000 SAEs x 5,000 steps on the SAELens toy
#    instance (n = 8, p = 0.2, d = 16, m = 8, k = 2, batch 1024), sampled and expected objectives
#    (target: at most 60 s of training each on an H200). --quick: 1,000 SAEs x 500 steps.
# Writes bench-results/bench_train_cuda.{json,md} and the GPU tests' log bench-results/gpu_tests_cuda.txt.
# The benchmark runs even when a GPU test fails (one device session is short); the exit status is then 1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'CUDA is not available')"
nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv || true
mkdir -p bench-results
tests_rc=0
"$PY" -m pytest -q -rA -p no:cacheprovider -n 0 -m gpu tests/integration/test_train_train.py tests/unit/test_train_objective.py \
    2>&1 | tee bench-results/gpu_tests_cuda.txt || tests_rc=$?
if [ "${1:-}" = "--quick" ]; then BIG="1000 500"; else BIG="10000 5000"; fi
# shellcheck disable=SC2086
"$PY" -m benchmarks.bench_train --device cuda --big $BIG "$@"
exit "$tests_rc"

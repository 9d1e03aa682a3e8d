#!/usr/bin/env bash
# Batched-training benchmark and GPU tests on a CUDA machine (run from the repository root):
#   bash benchmarks/gpu_train.sh [--quick]
# Writes bench-results/bench_train_cuda.{json,md}; also runs the @pytest.mark.gpu tests of sae_train.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'CUDA is not available')"
nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv || true
"$PY" -m pytest -q -p no:cacheprovider -m gpu tests/test_train_train.py
"$PY" -m benchmarks.bench_train --device cuda "$@"

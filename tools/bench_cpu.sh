#!/usr/bin/env bash
# Side-by-side CPU benchmark: cifarlab and PyTorch (Debian's python3-torch,
# 2 threads), both models at batch 256, alternating for ROUNDS rounds; one
# JSON object per line on stdout.
#   make build && tools/bench_cpu.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=$(nproc)
for r in $(seq "$rounds"); do
  for m in lenet5 resnet18; do
    steps=20; [ "$m" = resnet18 ] && steps=5
    bin/cifarlab bench -model "$m" -steps "$steps" -json 2>/dev/null
    /usr/bin/python3 tools/bench_pytorch.py --model "$m" --threads "$threads" --steps "$steps"
  done
done

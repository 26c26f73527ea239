#!/usr/bin/env bash
# Side-by-side CPU benchmark: cifarlab and PyTorch (Debian's python3-torch,
# as many threads as cores), every network at each batch size, the two
# alternating for ROUNDS rounds; one JSON object per line on stdout, then
# a table of training images/s and their ratio on stderr.
#   make build && tools/bench_cpu.sh [ROUNDS] [NETWORKS] [BATCHES]
# NETWORKS and BATCHES are space-separated lists (defaults below).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
models=${2:-lenet5 resnet18 resnet20 plain20 resnet56 plain56}
batches=${3:-256 128}
threads=$(nproc)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  for m in $models; do
    for b in $batches; do
      steps=20
      case "$m" in resnet18* | *56*) steps=5 ;; esac
      bin/cifarlab bench -device cpu -model "$m" -batch "$b" -steps "$steps" -json 2>/dev/null | tee -a "$out"
      /usr/bin/python3 tools/bench_pytorch.py --model "$m" --batch "$b" --threads "$threads" --steps "$steps" | tee -a "$out"
    done
  done
done
# The table: per network and batch, each round's images/s and the ratio.
/usr/bin/python3 - "$out" >&2 <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    side = "pytorch" if r["device"].startswith("pytorch") else "cifarlab"
    rows.setdefault((r["model"], r["batch"]), {"cifarlab": [], "pytorch": []})[side].append(r["train_images_per_s"])
print("| network | batch | cifarlab train images/s | PyTorch | ratio |")
print("| --- | ---: | --- | --- | --- |")
for (m, b), v in rows.items():
    c, p = v["cifarlab"], v["pytorch"]
    ratios = [x / y for x, y in zip(c, p)]
    f = lambda xs, fmt: " · ".join(fmt.format(x) for x in xs)
    print(f"| {m} | {b} | {f(c, '{:,.0f}')} | {f(p, '{:,.0f}')} | {f(ratios, '{:.2f}')} |")
PY

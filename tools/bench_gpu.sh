#!/usr/bin/env bash
# GPU benchmark, cifarlab against PyTorch on the same GPU: both models at
# batch 256, a whole training step (forward, loss, backward, Adam) with the
# data already on the GPU, median of 20 steps; one JSON object per line.
#
# Prepared here, run on a machine with an NVIDIA GPU, PyTorch with CUDA and
# no Go toolchain (this workplace's device machine):
#   CGO_ENABLED=0 go build -o bin/cifarlab .     # here
#   mkdir -p .gl && (cd .gl && apt-get download libvulkan1)  # here: the Vulkan loader,
#                                                # installed there when missing (the
#                                                # device machine has NVIDIA's driver, no loader)
#   tools/bench_gpu.sh                           # there, with bin/ and .gl/ carried along
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
for m in lenet5 resnet18; do
  bin/cifarlab bench -model "$m" -device gpu -steps 20 -json
  python3 tools/bench_pytorch.py --model "$m" --device cuda --steps 20
done

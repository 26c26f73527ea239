#!/usr/bin/env bash
# The shortcut experiments of EXPERIMENTS.md: cifarlab compare on real
# CIFAR-10, on whatever device -device auto picks (the CPU here).
#
#   tools/experiments.sh [DATA_DIR] [OUT_DIR]
#
# DATA_DIR holds cifar-10-jpeg.tar.gz and exact/test_batch.bin (default
# ../shared/cifar10); OUT_DIR gets one folder per experiment with the
# JSONL logs and compare.png / compare.svg (default experiments/).
# Trains on 10,000 of the 50,000 training images (1,000 a class) and tests
# on the 1,000 exact test images, so that all of it takes about an hour
# on a 2-core CPU; EPOCHS=N changes the epochs of the first two.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/cifar10}
out=${2:-experiments}
epochs=${EPOCHS:-5}
bin=bin/cifarlab
[ -x "$bin" ] || { echo "build $bin first (make build)" >&2; exit 1; }
common=(-data "$data/cifar-10-jpeg.tar.gz" -test "$data/exact/test_batch.bin" -limit 10000 -batch 128 -log-grads 5)

# 1. The tutorial's ResNet18 with and without shortcuts.
$bin compare -models resnet18,resnet18-plain -epochs "$epochs" "${common[@]}" -out "$out/resnet18"
# 2. He et al.'s depths with BatchNorm: degradation, if any, in the training loss.
$bin compare -models resnet20,plain20,resnet56,plain56 -epochs "$epochs" "${common[@]}" -out "$out/depth"
# 3. Without BatchNorm: the gradient fading on its way back through a deep plain stack.
$bin compare -models plain20,plain56,resnet56 -bn=false -epochs 3 "${common[@]}" -out "$out/nobn"

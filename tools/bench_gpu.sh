#!/usr/bin/env bash
# cifarlab against PyTorch on one GPU: LeNet5 and ResNet18 at batch 64 and
# 256, a whole training step (forward, loss, backward, Adam) with the data
# already on the GPU; cifarlab on its native Vulkan path, PyTorch on CUDA.
# Prints a table of images/s and their ratio, then the per-kernel profile
# of each network at the largest batch, then runs the GPU backend's tests there.
#
#   tools/bench_gpu.sh prepare   # here, with Go: bin/gpu/cifarlab, bin/gpu/gpu.test,
#                                # and .gl/libvulkan1_*.deb, Debian's Vulkan loader
#   tools/bench_gpu.sh           # there: Linux, an NVIDIA GPU and driver, python3
#                                # with torch (CUDA); no Go, no Vulkan loader needed
#
# MODELS, BATCHES, STEPS, TORCH_DEVICE and PYTHON (defaults "lenet5 resnet18",
# "64 256", 20, cuda, python3) narrow it, e.g. for a trial on lavapipe:
#   MODELS=lenet5 BATCHES=64 STEPS=2 TORCH_DEVICE=cpu tools/bench_gpu.sh
#
# Copy the repository with bin/gpu/ and .gl/ (both ignored by git) to the GPU
# machine. There the loader is unpacked into a temporary folder, not
# installed, and found through LD_LIBRARY_PATH; NVIDIA's driver brings the
# Vulkan ICD (its JSON manifest is looked for where the driver puts it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = prepare ]; then
  # No desktop viewer: a binary with gogpu/wgpu and without ebiten, built
  # without cgo so that it runs wherever the loader can be dlopened. In a
  # folder of its own: make build's bin/cifarlab (with the desktop) stays.
  mkdir -p bin/gpu
  CGO_ENABLED=0 go build -o bin/gpu/cifarlab .
  CGO_ENABLED=0 go test -c -o bin/gpu/gpu.test ./gpu
  mkdir -p .gl
  rm -f .gl/*.deb
  (cd .gl && apt-get download libvulkan1)
  ls -l bin/gpu/cifarlab bin/gpu/gpu.test .gl/*.deb
  exit 0
fi

for f in bin/gpu/cifarlab bin/gpu/gpu.test; do
  [ -x "$f" ] || { echo "$f is missing: run tools/bench_gpu.sh prepare where Go is installed, and copy bin/gpu/ and .gl/ along" >&2; exit 1; }
done
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  gl=$(mktemp -d)
  for f in .gl/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$f" "$gl"
    else
      (cd "$gl" && ar x "$OLDPWD/$f" && tar -xf data.tar.*)
    fi
  done
  lib=$(dirname "$(find "$gl" -name 'libvulkan.so.1*' | head -n 1)")
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "Vulkan loader: unpacked from $(ls .gl/*.deb) into $lib"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

models=${MODELS:-lenet5 resnet18}
batches=${BATCHES:-64 256}
steps=${STEPS:-20}
last=${batches##* }
out=$(mktemp)
for m in $models; do
  for b in $batches; do
    prof=""
    if [ "$b" = "$last" ]; then prof=-profile; fi
    bin/gpu/cifarlab bench -model "$m" -device gpu -batch "$b" -steps "$steps" -json $prof | tee -a "$out"
    "${PYTHON:-python3}" tools/bench_pytorch.py --model "$m" --device "${TORCH_DEVICE:-cuda}" --batch "$b" --steps "$steps" | tee -a "$out"
  done
done

"${PYTHON:-python3}" - "$out" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ours = {(r["model"], r["batch"]): r for r in rows if not r["device"].startswith("pytorch")}
theirs = {(r["model"], r["batch"]): r for r in rows if r["device"].startswith("pytorch")}
print()
for r in ours.values():
    print("cifarlab:", r["device"]); break
for r in theirs.values():
    print("PyTorch: ", r["device"]); break
print()
print("| network | batch | cifarlab images/s (as train runs) | one step waited for | PyTorch images/s | ratio | dispatches/step | MB bound/step | device MiB held |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for key in sorted(ours):
    o, p = ours[key], theirs.get(key)
    pt = p["train_images_per_s"] if p else float("nan")
    print(f"| {key[0]} | {key[1]} | {o['train_images_per_s']:,.0f} | {o['step_latency_images_per_s']:,.0f} | {pt:,.0f} | "
          f"{o['train_images_per_s'] / pt:.2f} | {o.get('dispatches_per_step', 0):.0f} | {o.get('device_bytes_per_step', 0) / 1e6:,.0f} | "
          f"{o.get('device_memory_bytes', 0) / 2**20:,.0f} |")
for key in sorted(ours):
    o = ours[key]
    if not o.get("kernels"):
        continue
    total = sum(k["ms"] for k in o["kernels"]) or float("nan")
    print(f"\n{key[0]}, batch {key[1]}, per kernel and step; the times are {o['kernel_timing']}")
    print("| kernel | dispatches | workgroups | MB read | MB written | GFLOP | ms | share | GFLOP/s | GB/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in o["kernels"]:
        s = k["ms"] / 1e3 or float("nan")
        print(f"| {k['kernel']} | {k['dispatches']:.0f} | {k['workgroups']:,.0f} | {k['bytes_read'] / 1e6:,.1f} | "
              f"{k['bytes_written'] / 1e6:,.1f} | {k['gflop']:.3f} | {k['ms']:.3f} | {100 * k['ms'] / total:.1f}% | "
              f"{k['gflop'] / s:,.1f} | {(k['bytes_read'] + k['bytes_written']) / 1e9 / s:,.1f} |")
EOF

echo
echo "GPU backend tests (CIFARLAB_REQUIRE=gpu: no adapter is a failure):"
(cd gpu && CIFARLAB_REQUIRE=gpu ../bin/gpu/gpu.test -test.count=1 -test.timeout=8m 2>&1 | tail -n 30)

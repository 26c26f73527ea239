#!/usr/bin/env python3
"""PyTorch's side of `cifarlab bench`: the same networks (every one of
net/testdata/pytorch_reference.py's MODELS), a whole training step
(forward, cross-entropy, backward, Adam) and an eval forward on random
images already in memory, median of --steps after 2 warm-up steps.

  /usr/bin/python3 tools/bench_pytorch.py --model lenet5 --threads 2 [--batch 256] [--device cpu|cuda]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "net", "testdata"))
from pytorch_reference import MODELS  # noqa: E402


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = MODELS[a.model][0]().to(a.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, 32, 32, device=a.device)
    y = torch.randint(0, 10, (a.batch,), device=a.device)
    train, evals = [], []
    model.train()
    for s in range(a.steps + 2):
        sync(a.device)
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        sync(a.device)
        if s >= 2:
            train.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        for s in range(a.steps + 2):
            sync(a.device)
            t0 = time.perf_counter()
            model(x).cpu()
            sync(a.device)
            if s >= 2:
                evals.append(time.perf_counter() - t0)
    tm, em = statistics.median(train), statistics.median(evals)
    print(json.dumps({"model": a.model, "device": f"pytorch {torch.__version__} {a.device} ({torch.get_num_threads()} threads)",
                      "batch": a.batch, "steps": a.steps, "train_step_ms": tm * 1e3, "train_images_per_s": a.batch / tm,
                      "eval_forward_ms": em * 1e3, "eval_images_per_s": a.batch / em}))


if __name__ == "__main__":
    main()

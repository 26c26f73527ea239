#!/usr/bin/env python3
"""Golden values from PyTorch for cifarlab's tests.

Builds the reference LeNet5 and ResNet18 (the tutorial's modules; ResNet18's
blocks get a projection shortcut whenever the stride is not 1, as cifarlab
does), ResNet18 without shortcuts or without BatchNorm, and the CIFAR-10
ResNets of He et al. (2015) with and without shortcuts and BatchNorm, fills every tensor of the state dict from a counter-based generator
that the Go test reproduces (splitmix64, keyed by the FNV-1a hash of the
tensor's name), trains a few Adam steps on generated image bytes, and writes
what the Go test compares with to golden_<model>.safetensors:

  losses [S], correct [S]            per step: mean loss before the update, correct count
  logits0 [B, 10]                    train-mode logits of the first step
  grad.<name>                        gradients of the first step (sampled for big tensors)
  grad_norms [P]                     their L2 norms, p.grad.norm(), in parameter order
  block_grad_norms [2B]              per block: the norm of the gradient arriving at its sum,
                                     then of what its main path passes back to its input
  final.<name>                       state dict after the last step (sampled for big tensors)
  eval_logits [E, 10]                eval-mode logits after training, on the next E images
  index.<name> (I64)                 the flat indices of a sampled tensor
  dev.<key> [1]                      (block networks) PyTorch float32's relative L2
                                     distance from these float64 values

Run from this folder:  /usr/bin/python3 pytorch_reference.py [MODEL …]
(every model of MODELS when none is named)
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

MASK = (1 << 64) - 1
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SAMPLE_ABOVE = 20000  # tensors with more elements are stored sampled
SAMPLE_STRIDE = 7919


class Lenet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_unit = nn.Sequential(
            nn.Conv2d(3, 6, kernel_size=5, stride=1, padding=0),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(6, 16, kernel_size=5, stride=1, padding=0),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
        )
        self.fc_unit = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        x = self.conv_unit(x)
        x = x.view(x.size(0), 16 * 5 * 5)
        return self.fc_unit(x)


def recorded(block, x, main, out):
    """With block.record set (a dict), records the gradients arriving at
    the block's sum (out) and at its main path's input (main, a copy of x
    made for it, so that its gradient is the main path's share alone)."""
    if block.record is not None:
        out.register_hook(lambda g: block.record.__setitem__("sum", g))
        main.register_hook(lambda g: block.record.__setitem__("main", g))


def main_input(block, x):
    """x, or a copy whose gradient is what the main path passes back."""
    return x * 1.0 if block.record is not None else x


def norm(ch, bn):
    """BatchNorm2d(ch), or nothing for a network without BatchNorm."""
    return nn.BatchNorm2d(ch) if bn else nn.Identity()


class ResBlk(nn.Module):
    """The tutorial's block; plain (shortcut=False) it is the main path alone."""

    def __init__(self, ch_in, ch_out, stride=1, shortcut=True, bn=True):
        super().__init__()
        self.record = None
        self.shortcut = shortcut
        self.conv1 = nn.Conv2d(ch_in, ch_out, kernel_size=3, stride=stride, padding=1)
        self.bn1 = norm(ch_out, bn)
        self.conv2 = nn.Conv2d(ch_out, ch_out, kernel_size=3, stride=1, padding=1)
        self.bn2 = norm(ch_out, bn)
        if shortcut:
            self.extra = nn.Sequential()
            if ch_out != ch_in or stride != 1:
                proj = [nn.Conv2d(ch_in, ch_out, kernel_size=1, stride=stride)]
                if bn:
                    proj.append(nn.BatchNorm2d(ch_out))
                self.extra = nn.Sequential(*proj)

    def forward(self, x):
        xm = main_input(self, x)
        out = F.relu(self.bn1(self.conv1(xm)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = self.extra(x) + out
        recorded(self, x, xm, out)
        return out


class ResNet18(nn.Module):
    def __init__(self, shortcut=True, bn=True):
        super().__init__()
        stem = [nn.Conv2d(3, 64, kernel_size=3, stride=3, padding=0)]
        if bn:
            stem.append(nn.BatchNorm2d(64))
        self.conv1 = nn.Sequential(*stem)
        self.blk1 = ResBlk(64, 128, stride=2, shortcut=shortcut, bn=bn)
        self.blk2 = ResBlk(128, 256, stride=2, shortcut=shortcut, bn=bn)
        self.blk3 = ResBlk(256, 512, stride=2, shortcut=shortcut, bn=bn)
        self.blk4 = ResBlk(512, 512, stride=2, shortcut=shortcut, bn=bn)
        self.outlayer = nn.Linear(512 * 1 * 1, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.blk4(self.blk3(self.blk2(self.blk1(x))))
        x = F.adaptive_max_pool2d(x, [1, 1])
        x = x.view(x.size(0), -1)
        return self.outlayer(x)


class BasicBlock(nn.Module):
    """He et al.'s CIFAR-10 block, option B: a 1×1 projection (with
    BatchNorm) where the shape changes, identity elsewhere; ReLU after the
    sum. Plain (shortcut=False) it has no shortcut at all. Without BatchNorm
    every convolution has a bias."""

    def __init__(self, ch_in, ch_out, stride=1, shortcut=True, bn=True):
        super().__init__()
        self.record = None
        self.has_shortcut = shortcut
        self.conv1 = nn.Conv2d(ch_in, ch_out, 3, stride=stride, padding=1, bias=not bn)
        self.bn1 = norm(ch_out, bn)
        self.conv2 = nn.Conv2d(ch_out, ch_out, 3, stride=1, padding=1, bias=not bn)
        self.bn2 = norm(ch_out, bn)
        if shortcut:
            self.shortcut = nn.Sequential()
            if stride != 1 or ch_in != ch_out:
                proj = [nn.Conv2d(ch_in, ch_out, 1, stride=stride, bias=not bn)]
                if bn:
                    proj.append(nn.BatchNorm2d(ch_out))
                self.shortcut = nn.Sequential(*proj)

    def forward(self, x):
        xm = main_input(self, x)
        out = F.relu(self.bn1(self.conv1(xm)))
        out = self.bn2(self.conv2(out))
        if self.has_shortcut:
            out = out + self.shortcut(x)
        recorded(self, x, xm, out)
        return F.relu(out)


class CifarResNet(nn.Module):
    """He et al. (2015) §4.2: 6n+2 layers on CIFAR-10."""

    def __init__(self, n, shortcut=True, bn=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=not bn)
        self.bn1 = norm(16, bn)
        chans, layers, ch_in = [16, 32, 64], [], 16
        for s, ch in enumerate(chans):
            blocks = []
            for i in range(n):
                stride = 2 if (i == 0 and s > 0) else 1
                blocks.append(BasicBlock(ch_in, ch, stride, shortcut, bn))
                ch_in = ch
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        return self.fc(x)


def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def splitmix(seed, n):
    """The first n outputs of splitmix64 seeded with seed, as uint64."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(name, n):
    """n values in [-1, 1) from the generator keyed by name (float64)."""
    return (splitmix(fnv1a(name), n) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 * 2 - 1


def fill(model):
    """Deterministic state: weights and biases U(±1/sqrt(fan_in)), BN affine near 1 and 0."""
    sd = model.state_dict()
    out = {}
    for name, t in sd.items():
        n = t.numel()
        if name.endswith("num_batches_tracked"):
            out[name] = torch.zeros((), dtype=torch.int64)
            continue
        u = uniform(name, n)
        is_bn = name.rsplit(".", 1)[0] + ".running_mean" in sd
        if name.endswith("running_mean"):
            v = 0.1 * u
        elif name.endswith("running_var"):
            v = 1 + 0.5 * (u + 1) / 2
        elif is_bn and name.endswith("weight"):
            v = 1 + 0.2 * u
        elif is_bn and name.endswith("bias"):
            v = 0.1 * u
        else:
            w = sd[name.rsplit(".", 1)[0] + ".weight"]
            fan_in = w[0].numel()
            v = u / np.sqrt(fan_in)
        out[name] = torch.from_numpy(v.astype(np.float32)).reshape(t.shape)
    model.load_state_dict(out, strict=True)


def images(seed, n):
    """n CIFAR-style records: label = first generated byte % 10, pixels the next 3072 bytes."""
    b = (splitmix(seed, n * 3073) >> np.uint64(56)).astype(np.uint8).reshape(n, 3073)
    labels = torch.from_numpy((b[:, 0] % 10).astype(np.int64))
    x = torch.from_numpy(b[:, 1:].astype(np.float32)).reshape(n, 3, 32, 32).div(255)
    x = x.sub(torch.tensor(MEAN).view(1, 3, 1, 1)).div(torch.tensor(STD).view(1, 3, 1, 1))
    return x, labels


def sampled(name, t, out):
    flat = t.detach().reshape(-1)
    if flat.numel() > SAMPLE_ABOVE:
        idx = torch.arange(0, flat.numel(), SAMPLE_STRIDE, dtype=torch.int64)
        out["index." + name] = idx
        return flat[idx].clone()
    return t.detach().clone()


def save(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def train(model, batch, steps, n_eval, seed, dtype):
    """The golden run in dtype: everything the Go test compares with."""
    torch.manual_seed(0)
    fill(model)
    model.to(dtype)
    x, y = images(seed, batch * steps + n_eval)
    x = x.to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = {}
    losses, correct = [], []
    blocks = [m for m in model.modules() if isinstance(m, (ResBlk, BasicBlock))]
    for b in blocks:
        b.record = {}
    model.train()
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        if s == 0:
            out["logits0"] = logits.detach().clone()
            for name, p in model.named_parameters():
                out["grad." + name] = sampled(name, p.grad, out)
            out["grad_norms"] = torch.stack([p.grad.norm() for p in model.parameters()])
            if blocks:
                out["block_grad_norms"] = torch.stack([b.record[k].norm() for b in blocks for k in ("sum", "main")])
            for b in blocks:
                b.record = None
        opt.step()
        losses.append(loss.item())
        correct.append(float((logits.argmax(1) == yb).sum()))
    for name, t in model.state_dict().items():
        out["final." + name] = sampled(name, t, out) if t.is_floating_point() else t.clone()
    model.eval()
    with torch.no_grad():
        out["eval_logits"] = model(x[batch * steps:]).clone()
    # Saliency: the gradient of each of the first SALIENCY eval images'
    # top class score with respect to the (normalised) input, in eval mode.
    xs = x[batch * steps:batch * steps + SALIENCY].clone().requires_grad_(True)
    scores = model(xs)
    top = scores.argmax(1, keepdim=True)
    scores.gather(1, top).sum().backward()
    out["input_grad"] = xs.grad.detach().clone()
    out["input_grad_top"] = top.squeeze(1).clone()
    out["losses"] = torch.tensor(losses, dtype=dtype)
    out["correct"] = torch.tensor(correct, dtype=dtype)
    return out


SALIENCY = 4


def run(model_name, make, batch, steps, n_eval, seed, exact):
    """Writes golden_<model_name>.safetensors. With exact, the values are
    PyTorch's in float64, and dev.<key> is how far PyTorch's own float32
    run lands from them (‖float32 − float64‖ / ‖float64‖): deep networks
    at these weights are so sensitive to rounding (a ReLU whose input is
    within rounding of 0 passes or blocks its gradient) that float32
    results can only be as close to exact as PyTorch's float32 is."""
    out = train(make(), batch, steps, n_eval, seed, torch.float64 if exact else torch.float32)
    if exact:
        f32 = train(make(), batch, steps, n_eval, seed, torch.float32)
        for key, ref in list(out.items()):
            if key.startswith("index.") or not ref.is_floating_point() or key == "correct":
                continue
            ref = ref.double()
            den = ref.norm().item()
            dev = (f32[key].double() - ref).norm().item() / den if den > 0 else 0.0
            out["dev." + key] = torch.tensor([dev], dtype=torch.float32)
        out = {k: v.float() if v.dtype == torch.float64 else v for k, v in out.items()}
    else:
        # The saliency passes through every ReLU: how far PyTorch's own
        # float32 lands from float64 says how closely it can be matched.
        ref = train(make(), batch, steps, n_eval, seed, torch.float64)["input_grad"]
        dev = (out["input_grad"].double() - ref).norm().item() / ref.norm().item()
        out["dev.input_grad"] = torch.tensor([dev], dtype=torch.float32)
    meta = {"model": model_name, "batch": str(batch), "steps": str(steps), "eval": str(n_eval),
            "data_seed": str(seed), "torch": torch.__version__}
    if exact:
        meta["exact"] = "float64"
    save(f"golden_{model_name}.safetensors", out, meta)
    print(model_name, "losses", out["losses"].tolist(), file=sys.stderr)


# Every network of the golden tests: name → (module, batch, steps, data
# seed). LeNet5 and ResNet18 are golden in float32; the block networks in
# float64, with PyTorch's float32 deviation from it (see run).
MODELS = {
    "lenet5": (Lenet5, 32, 5, 12345),
    "resnet18": (ResNet18, 16, 3, 54321),
    "resnet18-plain": (lambda: ResNet18(shortcut=False), 16, 3, 54322),
    "resnet18-nobn": (lambda: ResNet18(bn=False), 16, 3, 54323),
    "resnet20": (lambda: CifarResNet(3), 16, 3, 2020),
    "plain20": (lambda: CifarResNet(3, shortcut=False), 16, 3, 2021),
    "resnet20-nobn": (lambda: CifarResNet(3, bn=False), 16, 3, 2022),
    "plain20-nobn": (lambda: CifarResNet(3, shortcut=False, bn=False), 16, 3, 2023),
    "resnet56": (lambda: CifarResNet(9), 8, 3, 5656),
    "plain56": (lambda: CifarResNet(9, shortcut=False), 8, 3, 5657),
}


def main():
    torch.set_num_threads(1)
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        make, batch, steps, seed = MODELS[name]
        run(name, make, batch=batch, steps=steps, n_eval=16, seed=seed, exact=name not in ("lenet5", "resnet18"))


if __name__ == "__main__":
    main()

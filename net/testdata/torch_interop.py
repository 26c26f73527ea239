#!/usr/bin/env python3
"""Checkpoint interchange with PyTorch, for cifarlab's tests.

  torch_interop.py predict MODEL WEIGHTS BATCH_BIN N
      Loads WEIGHTS (safetensors) into the reference module with
      load_state_dict(strict=True), runs it in eval mode on the first N
      records of a CIFAR-10 .bin file, normalised as the reference does, and
      prints one JSON line: {"probs": [[10 floats] x N], "keys": [...]}.

  torch_interop.py saliency MODEL WEIGHTS BATCH_BIN I
      Loads WEIGHTS as predict does and prints the saliency of record I in
      eval mode: {"top": the top class, "saliency": [1024 floats]}, the
      maximum over the colour channels of |x.grad| after
      model(x)[0, top].backward(), row-major.

  torch_interop.py save MODEL OUT SEED
      Saves a freshly initialised reference module (torch.manual_seed(SEED)),
      with its BatchNorm running statistics and affine parameters perturbed
      so that eval mode differs from identity, as safetensors with the
      state_dict's names and dtypes.
"""
import json
import struct
import sys

import numpy as np
import torch

from pytorch_reference import MODELS, MEAN, STD

DTYPES = {"F32": (torch.float32, 4), "I64": (torch.int64, 8), "F64": (torch.float64, 8)}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, _ = DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=dtype) if e > b else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make(model):
    return MODELS[model][0]()


def predict(model, weights, batch_bin, n):
    m = make(model)
    m.load_state_dict(load_safetensors(weights), strict=True)
    m.eval()
    raw = np.fromfile(batch_bin, dtype=np.uint8).reshape(-1, 3073)[:n]
    x = torch.from_numpy(raw[:, 1:].astype(np.float32)).reshape(-1, 3, 32, 32).div(255)
    x = x.sub(torch.tensor(MEAN).view(1, 3, 1, 1)).div(torch.tensor(STD).view(1, 3, 1, 1))
    with torch.no_grad():
        probs = torch.softmax(m(x).double(), dim=1)
    print(json.dumps({"probs": probs.tolist(), "keys": list(m.state_dict().keys())}))


def saliency(model, weights, batch_bin, i):
    m = make(model)
    m.load_state_dict(load_safetensors(weights), strict=True)
    m.eval()
    raw = np.fromfile(batch_bin, dtype=np.uint8).reshape(-1, 3073)[i:i + 1]
    x = torch.from_numpy(raw[:, 1:].astype(np.float32)).reshape(1, 3, 32, 32).div(255)
    x = x.sub(torch.tensor(MEAN).view(1, 3, 1, 1)).div(torch.tensor(STD).view(1, 3, 1, 1))
    x.requires_grad_(True)
    scores = m(x)
    top = int(scores.argmax(1))
    scores[0, top].backward()
    sal = x.grad.abs().amax(dim=1).reshape(-1)
    print(json.dumps({"top": top, "saliency": sal.tolist()}))


def save(model, out, seed):
    torch.manual_seed(seed)
    m = make(model)
    sd = m.state_dict()
    for name, t in sd.items():
        if name.endswith("running_mean"):
            t.copy_(0.1 * torch.randn_like(t))
        elif name.endswith("running_var"):
            t.copy_(0.5 + torch.rand_like(t))
        elif name.endswith("num_batches_tracked"):
            t.fill_(seed)
    save_safetensors(out, sd)


def main():
    torch.set_num_threads(1)
    cmd = sys.argv[1]
    if cmd == "predict":
        predict(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "saliency":
        saliency(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "save":
        save(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()

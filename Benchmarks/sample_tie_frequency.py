#!/usr/bin/env python3
"""How often a group of tied logits straddles transformers top_p cut (where moonlab replays
torch's CPU sort, TorchTieOrder.swift), on f32 normals and the same rounded to bf16.
    /work/venv-torch/bin/python Benchmarks/sample_tie_frequency.py   (BENCHMARKS.md, torch CPU tie order)
"""
import torch, numpy as np
torch.manual_seed(0)
def straddles(row, k, p):
    v = row.double()
    if k: 
        kv = torch.topk(v, k).values[-1]; v = torch.where(v >= kv, v, torch.tensor(-float('inf'), dtype=v.dtype))
    s = torch.sort(v, descending=True).values
    s = s[torch.isfinite(s)]
    pr = torch.softmax(s, 0)
    # kept count m: positions i (descending) with suffix mass from i to end > 1-p ... HF: remove asc cumsum <= 1-p
    removed = (torch.flip(torch.cumsum(torch.flip(pr,[0]),0),[0]) <= 1 - p)  # mass of i and all less probable
    m = int((~removed).sum()); m = max(m, 1)
    return m < len(s) and s[m-1] == s[m]
for V in (32000, 128256):
  for scale in (2.0, 3.0):
    for k, p in ((40, 0.95), (0, 0.95), (0, 0.9)):
      n = 300; c32 = cbf = 0
      for _ in range(n):
        x = torch.randn(V) * scale
        x[torch.randint(0, V, (20,))] += 8
        c32 += straddles(x, k, p); cbf += straddles(x.to(torch.bfloat16).float(), k, p)
      print(f"V={V} scale={scale} top_k={k} top_p={p}: tie straddles the cut f32 {c32}/{n}, bf16-rounded {cbf}/{n}")

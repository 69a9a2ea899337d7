#!/usr/bin/env python3
"""Writes a small random GPT-2 checkpoint with the FULL GPT-2 vocabulary (50257) for the
generate CLI tests: real prompts tokenize to in-vocabulary ids and byte tokens exist, so
multi-byte UTF-8 characters can be split over tokens. C=16, 1 layer, 2 heads, context 64;
about 3.3 MB, written in ~0.1 s. Deterministic (fixed seed). Usage: generate_model.py DIR
"""
import json, os, struct, sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
V, P, C, NH, L = 50257, 64, 16, 2, 1
rng = np.random.default_rng(20250101)
t = {}
t["wte.weight"] = rng.normal(0, 0.6, (V, C))
t["wpe.weight"] = rng.normal(0, 0.3, (P, C))
for i in range(L):
    h = f"h.{i}."
    t[h + "ln_1.weight"] = 1 + rng.normal(0, 0.2, C)
    t[h + "ln_1.bias"] = rng.normal(0, 0.1, C)
    t[h + "attn.c_attn.weight"] = rng.normal(0, 0.3, (C, 3 * C))
    t[h + "attn.c_attn.bias"] = rng.normal(0, 0.1, 3 * C)
    t[h + "attn.c_proj.weight"] = rng.normal(0, 0.3, (C, C))
    t[h + "attn.c_proj.bias"] = rng.normal(0, 0.1, C)
    t[h + "ln_2.weight"] = 1 + rng.normal(0, 0.2, C)
    t[h + "ln_2.bias"] = rng.normal(0, 0.1, C)
    t[h + "mlp.c_fc.weight"] = rng.normal(0, 0.3, (C, 4 * C))
    t[h + "mlp.c_fc.bias"] = rng.normal(0, 0.1, 4 * C)
    t[h + "mlp.c_proj.weight"] = rng.normal(0, 0.3, (4 * C, C))
    t[h + "mlp.c_proj.bias"] = rng.normal(0, 0.1, C)
t["ln_f.weight"] = 1 + rng.normal(0, 0.2, C)
t["ln_f.bias"] = rng.normal(0, 0.1, C)

header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for name, a in t.items():
    b = np.ascontiguousarray(a, dtype="<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
hj = json.dumps(header).encode()
hj += b" " * (-len(hj) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hj)))
    f.write(hj)
    for b in blobs:
        f.write(b)
cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
       "activation_function": "gelu_new", "n_embd": C, "n_head": NH, "n_layer": L,
       "n_positions": P, "n_ctx": P, "vocab_size": V, "layer_norm_epsilon": 1e-5,
       "bos_token_id": 50256, "eos_token_id": 50256}
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=1)

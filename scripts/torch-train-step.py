#!/usr/bin/python3
"""torch-train-step.py: PyTorch's side of scripts/bench-train. Times S training steps of a
GPT-2 in plain PyTorch (Debian's python3-torch 1.13, CPU) and prints tokens/s per step.

Usage (Debian's /usr/bin/python3 has torch and numpy; the `python3` on PATH may not):
  scripts/torch-train-step.py (-m DIR | --init random [--config CONFIG.json])
      --tokens FILE --steps S --context T --batch B [--micro-batch M] [--threads N]
      [--lr 3e-4] [--seed 1] [--blas-core auto|env|NAME]
  scripts/torch-train-step.py --which-blas-core    (prints what `auto` picks here; empty
      when it leaves the pick to OpenBLAS)

The model is nanoGPT's GPT-2 (LayerNorm, fused c_attn, causal softmax attention scaled by
1/sqrt(head size), GELU with the tanh approximation, LM head tied to wte, no dropout), in f32.
-m DIR reads DIR/config.json and DIR/model.safetensors (F32/F16/BF16; tensor names as
openai-community/gpt2 with or without "transformer.", Conv1D weights [in, out], transposed
here into nn.Linear's [out, in]); --init random draws GPT-2's initialisation (N(0, 0.02),
residual projections N(0, 0.02/sqrt(2 L)), zero biases) for the shape of --config (default:
GPT-2 124M). One step = B/M micro-batches of M x T token windows (random starts, seeded),
forward, cross-entropy on the next token, backward, clip_grad_norm_(1.0), AdamW (lr,
betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on parameters of 2 or more dimensions), as
nanoGPT and llm.c. The learning rate is constant: a schedule costs nothing measurable.

--tokens FILE: token ids, either llm.c's .bin format (256 int32 header, magic 20240520,
then uint16 ids: what scripts/llmc-export writes) or text, ids separated by white space
(`gpt2 tokenize --format ids -f TEXT`).

Threads: torch.set_num_threads(N), and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set to N
before torch loads (Debian's torch calls OpenBLAS, pthread build, for every matrix product).
--blas-core: the OpenBLAS kernel set (OPENBLAS_CORETYPE), set before torch loads. `auto`
(default) chooses from the CPU flags: AVX-512 (avx512f + avx512bw + avx512vl + avx512dq):
SKYLAKEX, AVX2 + FMA: HASWELL, otherwise OpenBLAS's own pick; it overrides an inherited
OPENBLAS_CORETYPE, because this machine's environment sets Haswell globally. `env` keeps the
environment's value; any other value is used as is. Why SKYLAKEX on AVX-512: OpenBLAS's
Cooperlake core (its own pick on this AVX-512-BF16 machine) includes SkylakeX's kernel list and
adds only bf16 (sbgemm) kernels, so f32 products run the same code; SKYLAKEX also exists on
every AVX-512 CPU an older OpenBLAS does not recognise. Measured 2026-12-02 (Debian OpenBLAS
0.3.21, torch 1.13, 1 thread; F.linear, its input gradient and its weight gradient for the
124M step's weights 768x2304, 3072x768, 768x3072 at 256 rows and 768x3072 at 1024 rows; best
of 5 by CPU time, load 7-9, three rounds): SkylakeX and Cooperlake 153-188 GFLOP/s, equal
within noise (one or two outliers of 63-79 per round in both, a different product each time);
Haswell 82-98, half. The LM head's products (768x50257) run at 22-66 GFLOP/s with every core.
The environment's HASWELL would halve torch's matrix speed.

Output (stdout): a line `blas: core CORE (OPENBLAS_CORETYPE=...)`, then one line per step
  step I: loss L, MS ms, TOK tokens/s
then `median_tokens_per_s: X` over the steps after the first (the first pays for page faults
and the allocator's first growth; with one step, that step). Exit 2 on bad arguments.
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import struct
import sys
import time

# numpy and torch are imported once OpenBLAS's environment is set: numpy loads OpenBLAS too.
# scripts/llmc-export imports this file for read_safetensors().
GPT2_124M = {"n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
             "vocab_size": 50257, "layer_norm_epsilon": 1e-5}
LLMC_DATA_MAGIC = 20240520


def fail(msg):
    print(f"torch-train-step: error: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-m", "--model", help="checkpoint directory (config.json + model.safetensors)")
    ap.add_argument("--init", choices=["random"], help="random initialisation instead of -m")
    ap.add_argument("--config", help="config.json for --init random (default: GPT-2 124M)")
    ap.add_argument("--tokens", required=True, help="token file (llm.c .bin or text ids)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4, help="sequences per optimizer step")
    ap.add_argument("--micro-batch", type=int, default=0, help="sequences per pass (0: --batch)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--blas-core", default="auto", help="auto | env | an OPENBLAS_CORETYPE")
    a = ap.parse_args()
    if (a.model is None) == (a.init is None):
        fail("give exactly one of -m DIR and --init random")
    if a.config and not a.init:
        fail("--config goes with --init random")
    a.micro_batch = a.micro_batch or a.batch
    for name in ("steps", "context", "batch", "micro_batch", "threads"):
        if getattr(a, name) < 1:
            fail(f"--{name.replace('_', '-')} must be >= 1, got {getattr(a, name)}")
    if a.batch % a.micro_batch:
        fail(f"--batch {a.batch} is not a multiple of --micro-batch {a.micro_batch}")
    return a


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def choose_blas_core(choice):
    """The OPENBLAS_CORETYPE to load OpenBLAS with (None: leave the environment alone)."""
    if choice == "env":
        return None
    if choice != "auto":
        return choice
    flags = cpu_flags()
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SKYLAKEX"
    if {"avx2", "fma"} <= flags:
        return "HASWELL"
    os.environ.pop("OPENBLAS_CORETYPE", None)  # OpenBLAS's own pick
    return None


def blas_core_name():
    """The kernel set OpenBLAS runs (it is the libblas.so.3 torch links, already loaded)."""
    for lib in ("libblas.so.3", "libopenblas.so.0"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_char_p
        return f().decode()
    return "unknown (not OpenBLAS?)"


def read_tokens(path):
    import numpy as np
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"--tokens {path}: {e.strerror}")
    if len(data) >= 1024 and struct.unpack_from("<i", data)[0] == LLMC_DATA_MAGIC:
        (n,) = struct.unpack_from("<i", data, 8)
        if len(data) != 1024 + 2 * n:
            fail(f"--tokens {path}: header says {n} tokens, file size disagrees")
        return np.frombuffer(data, dtype=np.uint16, offset=1024).astype(np.int64)
    try:
        return np.array(data.split(), dtype=np.int64)
    except ValueError:
        fail(f"--tokens {path}: neither llm.c .bin nor whitespace-separated ids")


def read_safetensors(path):
    """Yields (name without "transformer.", float32 numpy array) for each tensor; F32, F16 and
    BF16, read one at a time (peak memory: the model plus one tensor, not the whole file)."""
    import numpy as np
    kinds = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in kinds:
                raise ValueError(f"{path}: tensor {name}: dtype {info['dtype']} not supported")
            b, e = info["data_offsets"]
            f.seek(8 + n + b)
            kind = np.dtype(kinds[info["dtype"]])
            a = np.fromfile(f, dtype=kind, count=(e - b) // kind.itemsize)
            if info["dtype"] == "BF16":
                a = (a.astype(np.uint32) << 16).view(np.float32)
            yield name.removeprefix("transformer."), a.astype(np.float32, copy=False).reshape(
                info["shape"])


def main():
    if sys.argv[1:] == ["--which-blas-core"]:
        print(choose_blas_core("auto") or "")
        return
    a = parse_args()
    # Everything OpenBLAS reads from the environment must be set before torch loads it.
    core = choose_blas_core(a.blas_core)
    if core:
        os.environ["OPENBLAS_CORETYPE"] = core
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class CausalSelfAttention(nn.Module):
        def __init__(self, C, NH, P):
            super().__init__()
            self.n_head = NH
            self.c_attn = nn.Linear(C, 3 * C)
            self.c_proj = nn.Linear(C, C)
            self.register_buffer("mask", torch.tril(torch.ones(P, P, dtype=torch.bool)),
                                 persistent=False)

        def forward(self, x):
            B, T, C = x.shape
            NH = self.n_head
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(B, T, NH, C // NH).transpose(1, 2)  # [B, NH, T, hs]
            k = k.view(B, T, NH, C // NH).transpose(1, 2)
            v = v.view(B, T, NH, C // NH).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // NH))
            att = F.softmax(att.masked_fill(~self.mask[:T, :T], float("-inf")), dim=-1)
            return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            C, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
            self.ln_1 = nn.LayerNorm(C, eps=eps)
            self.attn = CausalSelfAttention(C, cfg["n_head"], cfg["n_positions"])
            self.ln_2 = nn.LayerNorm(C, eps=eps)
            self.mlp = nn.ModuleDict({"c_fc": nn.Linear(C, 4 * C), "c_proj": nn.Linear(4 * C, C)})

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            h = F.gelu(self.mlp["c_fc"](self.ln_2(x)), approximate="tanh")
            return x + self.mlp["c_proj"](h)

    class GPT(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            C = cfg["n_embd"]
            self.wte = nn.Embedding(cfg["vocab_size"], C)
            self.wpe = nn.Embedding(cfg["n_positions"], C)
            self.h = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])])
            self.ln_f = nn.LayerNorm(C, eps=cfg["layer_norm_epsilon"])
            for name, p in self.named_parameters():
                if name.endswith(".bias"):
                    nn.init.zeros_(p)
                elif "ln_" in name:
                    nn.init.ones_(p)
                else:
                    std = 0.02 / math.sqrt(2 * cfg["n_layer"]) if name.endswith(
                        "c_proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx, targets):
            T = idx.shape[1]
            x = self.wte(idx) + self.wpe(torch.arange(T))[None]
            for block in self.h:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.t()  # tied head: [B, T, V]
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))

        def load(self, tensors):
            """tensors: (name, array) pairs; lm_head.weight, if present, is ignored (tied)."""
            params = dict(self.named_parameters())
            seen = set()
            with torch.no_grad():
                for name, t in tensors:
                    if name == "lm_head.weight":
                        continue
                    if name not in params:
                        raise ValueError(f"unexpected tensor {name}")
                    p = params[name]
                    if p.dim() == 2 and name.startswith("h."):
                        t = t.T  # Conv1D [in, out] -> nn.Linear [out, in]
                    if tuple(t.shape) != tuple(p.shape):
                        raise ValueError(f"{name}: shape {t.shape}, expected {tuple(p.shape)}")
                    p.copy_(torch.from_numpy(np.ascontiguousarray(t)))
                    seen.add(name)
            if seen != set(params):
                raise ValueError(f"missing tensors {sorted(set(params) - seen)[:3]}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = dict(GPT2_124M)
    cfg_path = os.path.join(a.model, "config.json") if a.model else a.config
    if cfg_path:
        try:
            with open(cfg_path) as f:
                cfg.update({k: v for k, v in json.load(f).items() if k in GPT2_124M})
        except (OSError, ValueError) as e:
            fail(f"{cfg_path}: {e}")
    model = GPT(cfg)
    if a.model:
        try:
            model.load(read_safetensors(os.path.join(a.model, "model.safetensors")))
        except (OSError, ValueError, KeyError) as e:
            fail(f"-m {a.model}: {e}")
    tokens = torch.from_numpy(read_tokens(a.tokens))
    T = a.context
    if T > cfg["n_positions"]:
        fail(f"--context {T} exceeds the model's n_positions {cfg['n_positions']}")
    if len(tokens) < T + 2:
        fail(f"--tokens {a.tokens}: {len(tokens)} tokens, need more than --context {T} + 1")
    if int(tokens.max()) >= cfg["vocab_size"]:
        fail(f"--tokens {a.tokens}: id {int(tokens.max())} >= vocab_size {cfg['vocab_size']}")

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.default_rng(a.seed)
    offsets = torch.arange(T + 1)
    accum = a.batch // a.micro_batch
    n_params = sum(p.numel() for p in model.parameters())
    print(f"blas: core {blas_core_name()} (OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '')}), torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, parameters {n_params}", flush=True)
    print(f"shape: batch {a.batch} (micro-batch {a.micro_batch}) x context {T}, "
          f"{len(tokens)} tokens", flush=True)

    model.train()
    rates = []
    for step in range(1, a.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(accum):
            starts = torch.from_numpy(rng.integers(0, len(tokens) - T - 1, size=a.micro_batch))
            win = tokens[starts[:, None] + offsets]  # [M, T + 1]
            loss = model(win[:, :-1], win[:, 1:]) / accum
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        rates.append(a.batch * T / dt)
        print(f"step {step}: loss {total:.4f}, {dt * 1000:.1f} ms, {rates[-1]:.1f} tokens/s",
              flush=True)
    print(f"median_tokens_per_s: {statistics.median(rates[1:] or rates):.1f}", flush=True)


if __name__ == "__main__":
    main()

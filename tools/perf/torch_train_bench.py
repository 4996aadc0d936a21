#!/usr/bin/python3
"""PyTorch CPU training throughput, the comparison point for Starfire's
trainer (issue #6): a Llama-architecture decoder (the plain-torch model of
tests/train/make_reference.py: RMSNorm, adjacent-pair RoPE, causal attention,
SwiGLU; no biases, no q/k norm), random tokens, one optimizer step per batch:
zero grads, forward + cross-entropy over every position, backward, clip to
global norm 1.0, AdamW (betas 0.9/0.95, eps 1e-8, decay 0.1 on 2-D weights,
constant lr 1e-3). Precision: fp32, or bf16 autocast (matmuls in bf16,
master weights, gradients and optimizer state fp32).

Shapes (--shape, repeatable; default both):
  stories15m  dim 288, 6 layers, 6 heads (6 kv), ff 768, vocab 32000, seq 256, batch 4,
              tied embeddings (as llama2.c's stories15M)
  d512        dim 512, 8 layers, 8 heads (8 kv), ff 1376, vocab 8192, seq 512, batch 2,
              tied embeddings (--untied for a separate output head)

Prints one JSON line per (shape, precision): tokens/s = batch*seq / the
median step time of the steps after --warmup (3) warmup steps, plus the
threads, the BLAS library torch has mapped, torch's version and the load
average at the start and end.

Needs Debian's python3-torch (and libopenblas0-pthread as the libblas.so.3
alternative: update-alternatives --display libblas.so.3-x86_64-linux-gnu).
Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than Cooper Lake and
falls back to its SSE3 "Prescott" kernels on them (openblas_core in the
output says which ran; on the dev machine, an Emerald Rapids Xeon, a
1024x288x32000 sgemm runs at ~18 GFLOPS with Prescott and ~67 with
OPENBLAS_CORETYPE=SkylakeX, 2 threads). For a fair baseline run with
OPENBLAS_CORETYPE=SkylakeX on AVX-512 machines (Haswell on AVX2 ones).

usage: /usr/bin/python3 tools/perf/torch_train_bench.py [-t 2] [--steps 8] [--warmup 3]
           [--shape stories15m] [--precision fp32|bf16] [--untied]
"""
import argparse
import json
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("-t", "--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=8, help="timed steps after the warmup")
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--shape", action="append", choices=["stories15m", "d512"])
ap.add_argument("--precision", action="append", choices=["fp32", "bf16"])
ap.add_argument("--untied", action="store_true")
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

# OpenBLAS (the pthread build) sizes its own pool; give it the same count.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

import torch  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "train"))
from make_reference import forward_logits, param_shapes  # noqa: E402

SHAPES = {
    "stories15m": dict(n_vocab=32000, n_embd=288, n_layer=6, n_head=6, n_head_kv=6, head_dim=48,
                       n_ff=768, seq=256, batch=4),
    "d512": dict(n_vocab=8192, n_embd=512, n_layer=8, n_head=8, n_head_kv=8, head_dim=64,
                 n_ff=1376, seq=512, batch=2),
}


def blas_libs():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
    return sorted(os.path.basename(p) for p in libs if p.startswith("/"))


def openblas_core():
    """OpenBLAS's kernel family (openblas_get_corename), or None when not loaded."""
    import ctypes
    for lib in blas_libs():
        if "openblas" in lib:
            with open("/proc/self/maps") as f:
                path = next(line.split()[-1] for line in f if line.rstrip().endswith(lib))
            fn = ctypes.CDLL(path).openblas_get_corename
            fn.restype = ctypes.c_char_p
            return fn().decode()
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def bench(shape, precision):
    s = SHAPES[shape]
    c = dict(arch="llama", rms_eps=1e-5, rope_base=10000.0, rope_mode="norm",
             tied_output=not args.untied, qkv_bias=False, qk_norm=False, **s)
    gen = torch.Generator().manual_seed(args.seed)
    P, decay, n_params = {}, {}, 0
    for name, shp, d in param_shapes(c):
        if len(shp) == 2:
            t = torch.randn(shp, generator=gen) * 0.02
        else:
            t = torch.ones(shp)
        P[name] = t.requires_grad_(True)
        decay[name] = d
        n_params += t.numel()
    opt = torch.optim.AdamW(
        [{"params": [P[n] for n in P if decay[n]], "weight_decay": 0.1},
         {"params": [P[n] for n in P if not decay[n]], "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    B, T = s["batch"], s["seq"]
    times, losses = [], []
    load0 = loadavg()
    for i in range(args.warmup + args.steps):
        seqs = torch.randint(0, c["n_vocab"], (B, T + 1), generator=gen)
        tokens, targets = seqs[:, :T], seqs[:, 1:]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = forward_logits(c, P, tokens)
            logits = logits.float()
        else:
            logits = forward_logits(c, P, tokens)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c["n_vocab"]), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if i >= args.warmup:
            times.append(dt)
    med = statistics.median(times)
    return {
        "bench": "torch_train", "shape": shape, "precision": precision,
        "dim": c["n_embd"], "n_layer": c["n_layer"], "n_head": c["n_head"], "n_ff": c["n_ff"],
        "n_vocab": c["n_vocab"], "seq": T, "batch": B, "tied": c["tied_output"],
        "n_params": n_params, "threads": torch.get_num_threads(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "tokens_per_s": round(B * T / med, 1), "step_s_median": round(med, 4),
        "step_s_min": round(min(times), 4), "step_s_max": round(max(times), 4),
        "steps_timed": len(times), "warmup": args.warmup,
        "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
        "optimizer": "AdamW(0.9, 0.95, eps 1e-8, wd 0.1 on 2-D, foreach) + clip_grad_norm_(1.0)",
        "torch": torch.__version__, "blas": blas_libs(), "openblas_core": openblas_core(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "loadavg_start": load0, "loadavg_end": loadavg(),
    }


def main():
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    for shape in args.shape or ["stories15m", "d512"]:
        for precision in args.precision or ["fp32", "bf16"]:
            print(json.dumps(bench(shape, precision)), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Training throughput, Starfire vs PyTorch on CPU, side by side (issue #6).

Runs, for each round, Starfire's bench_train (one optimizer step: zero grads,
forward + backward, clip 1.0, AdamW) and tools/perf/torch_train_bench.py (the
same model, step and optimizer in plain PyTorch) alternately on the same
shapes and thread count, then prints the median tokens/s of each and the
ratio Starfire / PyTorch. PyTorch runs with OpenBLAS's AVX-512 kernels forced
(OPENBLAS_CORETYPE=SkylakeX; Debian's OpenBLAS 0.3.21 otherwise falls back to
SSE3 kernels on CPUs it does not know) and, with --also-default, as installed.

usage: /usr/bin/python3 tools/perf/compare_torch_train.py [--build build/release]
           [--rounds 2] [-t 2] [--also-default]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build/release")
ap.add_argument("--rounds", type=int, default=2)
ap.add_argument("-t", "--threads", type=int, default=2)
ap.add_argument("--also-default", action="store_true",
                help="also time PyTorch with Debian's OpenBLAS kernel choice")
args = ap.parse_args()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
bench = os.path.join(args.build, "bench", "bench_train")
SHAPES = [("stories15m", 0), ("d512", 1)]
PREC = [("fp32", 0), ("bf16", 1)]


def ours(shape_idx, bf16):
    env = dict(os.environ, STARFIRE_BENCH_THREADS=str(args.threads))
    out = subprocess.run([bench, f"--benchmark_filter=BM_TrainStep/shape:{shape_idx}/bf16:{bf16}/",
                          "--benchmark_format=json"],  # MinTime(5 s) is set in the bench
                         env=env, check=True, capture_output=True, text=True).stdout
    b = json.loads(out)["benchmarks"][0]
    return b["tokens_per_s"]


def torch_(shape, prec, coretype):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run(["/usr/bin/python3", os.path.join(root, "tools/perf/torch_train_bench.py"),
                          "-t", str(args.threads), "--shape", shape, "--precision", prec,
                          "--steps", "6", "--warmup", "2"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["tokens_per_s"]


variants = [("SkylakeX", "SkylakeX")] + ([("default", None)] if args.also_default else [])
res = {}
for r in range(args.rounds):
    for shape, si in SHAPES:
        for prec, bf in PREC:
            res.setdefault((shape, prec, "starfire"), []).append(ours(si, bf))
            for vname, core in variants:
                res.setdefault((shape, prec, "torch-" + vname), []).append(torch_(shape, prec, core))
            print(f"round {r + 1} {shape} {prec}: " + ", ".join(
                f"{k[2]} {v[-1]:.0f}" for k, v in res.items() if k[0] == shape and k[1] == prec),
                file=sys.stderr, flush=True)

print(f"threads {args.threads}, load {os.getloadavg()[0]:.2f}, medians of {args.rounds} rounds (tokens/s)")
print("| shape | precision | Starfire | " + " | ".join(f"PyTorch ({v})" for v, _ in variants) +
      " | " + " | ".join(f"ratio vs {v}" for v, _ in variants) + " |")
print("|---|---|---:|" + "---:|" * (2 * len(variants)))
for shape, _ in SHAPES:
    for prec, _ in PREC:
        s = statistics.median(res[(shape, prec, "starfire")])
        ts = [statistics.median(res[(shape, prec, "torch-" + v)]) for v, _ in variants]
        print(f"| {shape} | {prec} | {s:.0f} | " + " | ".join(f"{t:.0f}" for t in ts) + " | " +
              " | ".join(f"{s / t:.2f}" for t in ts) + " |")

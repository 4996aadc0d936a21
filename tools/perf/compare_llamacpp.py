#!/usr/bin/env python3
"""Side-by-side speed of `starfire bench` and llama.cpp's `llama-bench` on the
same GGUF files, runs interleaved (ours, theirs, ours, theirs ...) so machine
drift affects both alike. Prints a markdown table with ratios (ours / theirs)
and each run's peak RSS (from /usr/bin/time -v).

usage: compare_llamacpp.py --starfire build/release/starfire \
           --llama-bench /tmp/llama.cpp/build/bin/llama-bench \
           [-t 2] [-p 512] [-n 128] [-r 3] [--rounds 2] MODEL.gguf ...
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (stdout, peak RSS in MiB)."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return p.stdout, (int(m.group(1)) / 1024 if m else float("nan"))


def ours(args, model, test, n):
    flags = ["-p", str(n), "-n", "0"] if test == "pp" else ["-p", "0", "-n", str(n)]
    out, rss = timed([args.starfire, "bench", "-m", model, "-t", str(args.threads),
                      "-r", str(args.reps), "--json"] + flags)
    rec = json.loads(out.strip().splitlines()[-1])
    return rec["avg_ts"], rec["stddev_ts"], rss


def theirs(args, model, test, n):
    flags = ["-p", str(n), "-n", "0"] if test == "pp" else ["-p", "0", "-n", str(n)]
    out, rss = timed([args.llama_bench, "-m", model, "-t", str(args.threads),
                      "-r", str(args.reps), "-o", "json"] + flags)
    rec = json.loads(out)[-1]
    return rec["avg_ts"], rec["stddev_ts"], rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starfire", required=True)
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds per test")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    print(f"threads {args.threads}, {args.reps} repetitions per run, {args.rounds} interleaved rounds\n")
    print("| model | test | Starfire t/s | llama.cpp t/s | ratio | Starfire RSS MiB | llama.cpp RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for model in args.models:
        for test, n in (("pp", args.p), ("tg", args.n)):
            a, b, ra, rb = [], [], [], []
            for _ in range(args.rounds):
                x = ours(args, model, test, n)
                y = theirs(args, model, test, n)
                a.append(x[0]); ra.append(x[2])
                b.append(y[0]); rb.append(y[2])
            sa, sb = statistics.median(a), statistics.median(b)
            print(f"| {os.path.basename(model)} | {test}{n} | {sa:.2f} | {sb:.2f} | "
                  f"{sa / sb:.2f} | {max(ra):.0f} | {max(rb):.0f} |", flush=True)


if __name__ == "__main__":
    main()

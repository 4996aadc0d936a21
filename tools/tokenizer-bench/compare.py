#!/usr/bin/env python3
"""Runs Starfire's bench_tokenizer and Hugging Face tokenizers (bench_hf.mjs) on
the same tokenizer.json files and text, checks that both produce the same ids,
and prints MB/s side by side with the ratio (Starfire / HF).

usage: compare.py BENCH_TOKENIZER_BINARY TEXT_FILE TOKENIZER_JSON [TOKENIZER_JSON ...]
Needs `npm install` in this folder (or NODE_PATH pointing at an install).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    bench, text, tokenizers = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = []
    for tj in tokenizers:
        name = os.path.basename(os.path.dirname(os.path.abspath(tj)))
        with tempfile.TemporaryDirectory() as tmp:
            ids = os.path.join(tmp, "ids.i32")
            hf = json.loads(subprocess.check_output(
                ["node", os.path.join(HERE, "bench_hf.mjs"), tj, text, "--repeat", "5", "--ids", ids],
                text=True).strip().splitlines()[-1])
            env = dict(os.environ, STARFIRE_TOK_CORPUS=text, STARFIRE_TOK_JSONS=tj,
                       STARFIRE_TOK_EXPECTED_IDS=ids)
            out = subprocess.run([bench, "--benchmark_filter=^encode/", "--benchmark_format=json",
                                  "--benchmark_repetitions=3"],
                                 env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(out.stderr)
            res = json.loads(out.stdout)
        runs = [b for b in res["benchmarks"] if b.get("run_type") == "iteration"]
        if any(b.get("error_occurred") for b in runs):
            sys.exit(f"{name}: Starfire's ids differ from Hugging Face's")
        # Google Benchmark's rate is per CPU second; compare with HF's CPU time.
        ours = max(b["bytes_per_second"] for b in runs) / 1e6
        rows.append((name, hf["tokens"], ours, hf["mb_per_s_cpu"]))
    print("MB/s of input text per CPU second, one thread")
    print(f"{'tokenizer':<12} {'tokens':>9} {'starfire MB/s':>14} {'hf MB/s':>9} {'ratio':>7}")
    for name, n, ours, theirs in rows:
        print(f"{name:<12} {n:>9} {ours:>14.2f} {theirs:>9.2f} {ours / theirs:>6.1f}x")
    print(json.dumps([{"tokenizer": r[0], "tokens": r[1], "starfire_mb_s": r[2], "hf_mb_s": r[3],
                       "ratio": r[2] / r[3]} for r in rows]))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Side-by-side load test: `starfire serve` and llama.cpp's `llama-server` on the
# same model, same --parallel, same threads, one after the other, loopback only.
# Writes one JSON per server (tools/loadtest/loadtest.mjs) into OUT_DIR.
#
#   tools/loadtest/compare.sh MODEL.gguf PATH/TO/llama-server [OUT_DIR]
#
# Env: PARALLEL (8), CTX_PER_SLOT (512), THREADS (nproc), CLIENTS (1,2,4,8,16),
#      REQUESTS per client (2), MAX_TOKENS (32), STARFIRE (build/release/starfire).
set -euo pipefail
MODEL=${1:?model.gguf}
LLAMA=${2:?path to llama-server}
OUT=${3:-/tmp/starfire-loadtest}
PARALLEL=${PARALLEL:-8}
CTX_PER_SLOT=${CTX_PER_SLOT:-512}
THREADS=${THREADS:-$(nproc)}
CLIENTS=${CLIENTS:-1,2,4,8,16}
REQUESTS=${REQUESTS:-2}
MAX_TOKENS=${MAX_TOKENS:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
STARFIRE=${STARFIRE:-$HERE/../../build/release/starfire}
mkdir -p "$OUT"

wait_healthy() {  # bounded: 120 s
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server on port $1 did not become healthy" >&2
  return 1
}

run_load() {  # label port pid
  node "$HERE/loadtest.mjs" --url "http://127.0.0.1:$2" --clients "$CLIENTS" \
    --requests "$REQUESTS" --max-tokens "$MAX_TOKENS" --time-limit 300 --pid "$3" \
    --label "$1" --json "$OUT/$1.json" >/dev/null
}

"$STARFIRE" serve -m "$MODEL" --port 18282 --parallel "$PARALLEL" -c "$CTX_PER_SLOT" \
  -t "$THREADS" >/dev/null 2>"$OUT/starfire.log" &
SF=$!
wait_healthy 18282
run_load starfire 18282 "$SF" || true
kill -TERM "$SF"
wait "$SF" || true

# llama.cpp splits -c over its slots; --poll 0 keeps its worker threads from
# busy-waiting, which helps it on a machine shared with other work.
"$LLAMA" -m "$MODEL" --host 127.0.0.1 --port 18383 -np "$PARALLEL" \
  -c $((PARALLEL * CTX_PER_SLOT)) -t "$THREADS" --poll 0 --no-webui >/dev/null 2>"$OUT/llama.log" &
LL=$!
wait_healthy 18383
run_load llama.cpp 18383 "$LL" || true
kill -TERM "$LL"
wait "$LL" || true
echo "results in $OUT/starfire.json and $OUT/llama.cpp.json"

#!/usr/bin/env bash
# The main job: builds if needed, then runs `starfire` with the given arguments.
# With no arguments, generates a story from the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/release/starfire ]; then
  bash scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target starfire
fi
if [ $# -eq 0 ]; then
  set -- run -p "Once upon a time" -n 128
fi
exec build/release/starfire "$@"

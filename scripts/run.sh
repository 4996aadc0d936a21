#!/usr/bin/env bash
# The main job: builds if needed, then runs `starfire` with the given arguments.
# With no arguments, generates text from the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/release/starfire ]; then
  bash scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target starfire
fi
if [ $# -eq 0 ]; then
  model=models/default.gguf
  if [ ! -f "$model" ] && [ -f ../shared/fixtures/stories260K/stories260K.gguf ]; then
    model=../shared/fixtures/stories260K/stories260K.gguf
    echo "(no models/default.gguf yet: using the stories260K test model)" >&2
  fi
  set -- run -m "$model" -p "Once upon a time" -n 128
fi
exec build/release/starfire "$@"

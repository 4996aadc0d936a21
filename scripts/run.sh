#!/usr/bin/env bash
# The main job: builds if needed, then runs `starfire` with the given arguments.
# With no arguments, chats with the shipped default model (models/default.gguf):
# interactively when stdin is a terminal, else it answers two sample questions
# (one Chinese, one English) so the command also works in scripts and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/release/starfire ]; then
  bash scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target starfire
fi
if [ $# -gt 0 ]; then
  exec build/release/starfire "$@"
fi
if [ -t 0 ]; then
  exec build/release/starfire chat
fi
printf '%s\n' '你好！你是谁？' 'What is 12 + 35?' | build/release/starfire chat --temp 0 -n 128

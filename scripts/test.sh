#!/usr/bin/env bash
# The test command: installs what is missing, builds (release preset), runs every test.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release "$@"
# The corpus builder's and the default-model recipe's own unit tests (Python
# standard library only, no network).
for d in tools/corpus tools/recipe; do
  (cd "$d" && python3 -B -m unittest discover -s . -p 'test_*.py' -q)
done

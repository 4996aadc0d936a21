#!/usr/bin/env bash
# Installs the Debian packages Starfire needs to build and test. Idempotent:
# installs only what is missing, says what it installs, works as root or via sudo.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format           # libFuzzer targets and formatting
  libgtest-dev libgmock-dev    # unit tests
  libbenchmark-dev             # microbenchmarks
  nlohmann-json3-dev           # JSON (CLI output, tokenizer.json, configs)
  libicu-dev                   # Unicode categories and normalization for tokenizers
  libcpp-httplib-dev           # HTTP server for `starfire serve`
  python3                      # test helpers that read fixture manifests
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the server tests that use the official `openai` npm client; any
# install that provides the commands will do (Debian's, or a vendor's).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

# The openai client for those tests, pinned by its package-lock.json.
install_node_packages() {
  local dir="$(dirname "$0")/../tests/server/openai_client"
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules/openai" ] && command -v npm >/dev/null; then
    echo "setup: installing the openai npm client for the server tests"
    (cd "$dir" && npm ci --no-audit --no-fund --silent) ||
      echo "setup: npm ci failed; the openai client tests will be skipped" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build dependencies are installed"
  install_node_packages
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_node_packages

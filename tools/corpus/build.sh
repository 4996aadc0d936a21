#!/usr/bin/env bash
# Build Starfire's bilingual training corpus (see docs/CORPUS.md).
#
#   tools/corpus/build.sh [WORKDIR] [build.py options]
#
# WORKDIR defaults to ./corpus-work; keep it outside the repository (e.g.
# /tmp/corpus-work) -- it holds ~300 MB of downloaded packages and is never
# committed.  Needs only Debian's apt-get, dpkg-deb and python3 (standard
# library); no package is installed.  Reruns reuse WORKDIR/cache and give
# byte-identical outputs while the package versions are unchanged.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${1:-corpus-work}"
[ $# -gt 0 ] && shift

for t in apt-get apt-cache dpkg-deb python3; do
  command -v "$t" >/dev/null || { echo "build.sh: $t not found (Debian needed)" >&2; exit 1; }
done

# apt-get download needs package lists; refresh them only when missing.
if ! apt-cache show --no-all-versions manpages-zh >/dev/null 2>&1; then
  echo "build.sh: package lists lack manpages-zh; running apt-get update" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -q
  elif command -v sudo >/dev/null; then sudo apt-get update -q
  else echo "build.sh: run 'apt-get update' as root first" >&2; exit 1; fi
fi

mkdir -p "$WORK"
start=$(date +%s)
python3 "$HERE/build.py" "$WORK" "$@"
echo "build.sh: finished in $(( $(date +%s) - start )) s; outputs in $WORK"

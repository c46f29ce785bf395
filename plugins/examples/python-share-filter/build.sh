#!/usr/bin/env bash
# Builds the Python share filter into a WebAssembly component with componentize-py:
#   target/plugins/python/python_share_filter.wasm   (or the path given as the first argument)
# Needs componentize-py (`pip install componentize-py==0.25.1`; tests/run.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-$root/target/plugins/python/python_share_filter.wasm}"
mkdir -p "$(dirname "$out")"

if ! command -v componentize-py >/dev/null; then
  echo "componentize-py is not installed: pip install componentize-py==0.25.1" >&2
  exit 1
fi
# componentize-py writes its generated bindings next to the app while it builds; build in a
# scratch copy so the source folder stays clean.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/app.py" "$work/"
componentize-py -d "$root/wit/since_v0.1.0" -w share-filter-policy componentize app -p "$work" -o "$out"
echo "built $out"

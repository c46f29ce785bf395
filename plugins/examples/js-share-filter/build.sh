#!/usr/bin/env bash
# Builds the JavaScript share filter into a WebAssembly component with jco:
#   target/plugins/js/js_share_filter.wasm   (or the path given as the first argument)
# Installs the pinned jco and componentize-js from npm into this folder's node_modules/ (git-ignored)
# on first use. Needs Node.js 20 or later and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$(realpath -m "${1:-$root/target/plugins/js/js_share_filter.wasm}")"
mkdir -p "$(dirname "$out")"

cd "$here"
if [ ! -x node_modules/.bin/jco ] || [ "$(node_modules/.bin/jco --version)" != "1.35.0" ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
# The QuickJS backend without async: the default StarlingMonkey build imports wasi:http, which the
# sandbox does not give, and is too slow for 10,000 requests within the instruction budget.
node_modules/.bin/jco componentize policy.js --wit "$root/wit/since_v0.1.0" --world-name share-filter-policy \
  --backend quickjs --backend-qjs-disable-async --out "$out"
echo "built $out"

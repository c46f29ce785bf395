#!/usr/bin/env bash
# Runs every test suite: installs what they need (the wasm32-wasip2 target, localstripe,
# poppler-utils, qpdf, the Noto fonts, Chromium with chromedriver and axe-core for the console,
# aiosmtpd, openapi-spec-validator, schemathesis, componentize-py for the Python example policy and
# Node.js for the JavaScript one), makes sure the local PostgreSQL they talk to is up, and runs
# `cargo test` over the whole workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

# The Stripe suite starts localstripe (PyPI) itself, on 127.0.0.1 and a free port.
if ! python3 -c "import localstripe" 2>/dev/null; then
  pip install --quiet localstripe
fi

export AUTOBILL_TEST_POSTGRES_URL="${AUTOBILL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# The mail suite reads PDFs back with pdftotext (poppler-utils) and sends to aiosmtpd (PyPI), which
# it starts itself on 127.0.0.1. Documents are set in the Noto fonts (fonts-noto-core for Latin,
# Greek, Cyrillic, Arabic and Hebrew; fonts-noto-cjk for Chinese, Japanese and Korean); the PDF
# tests check the files' structure with qpdf.
missing=()
command -v pdftotext >/dev/null || missing+=(poppler-utils)
# The JavaScript example and `autobill plugin new --lang js` build with jco, from npm.
command -v npm >/dev/null || missing+=(nodejs npm)
command -v qpdf >/dev/null || missing+=(qpdf)
[ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] || missing+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
# The console suite drives headless Chromium through chromedriver and checks each page with
# axe-core, installed from npm below.
command -v chromedriver >/dev/null || missing+=(chromium chromium-driver)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y "${missing[@]}"
fi
if ! python3 -c "import aiosmtpd" 2>/dev/null; then
  echo "aiosmtpd is missing; installing it from PyPI" >&2
  python3 -m pip install aiosmtpd || python3 -m pip install --user aiosmtpd \
    || python3 -m pip install --break-system-packages aiosmtpd
fi

# The console suite injects axe-core (npm, pinned) into every page it visits.
axe_version=4.14.1
if [ "$(node -p "require('./target/axe/node_modules/axe-core/package.json').version" 2>/dev/null)" != "$axe_version" ]; then
  npm install --silent --no-audit --no-fund --prefix target/axe "axe-core@$axe_version"
fi

# The API suite checks the OpenAPI document with openapi-spec-validator (PyPI).
if ! command -v openapi-spec-validator >/dev/null; then
  echo "openapi-spec-validator is missing; installing it from PyPI" >&2
  python3 -m pip install openapi-spec-validator || python3 -m pip install --user openapi-spec-validator \
    || python3 -m pip install --break-system-packages openapi-spec-validator
fi

# The API suite runs schemathesis (PyPI) against a live server, pinned, in a virtual environment
# under target/ like componentize-py below.
st_venv=target/schemathesis/venv
if [ ! -x "$st_venv/bin/schemathesis" ] || [ "$("$st_venv/bin/schemathesis" --version)" != "schemathesis, version 4.32.5" ]; then
  python3 -m venv "$st_venv"
  "$st_venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi

# The Python example policy is built with componentize-py (PyPI), in a virtual environment under
# target/ so nothing is installed system-wide; the conformance suite runs the kit on it.
venv=target/plugins/python/venv
if [ ! -x "$venv/bin/componentize-py" ] || [ "$("$venv/bin/componentize-py" --version)" != "componentize-py 0.25.1" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "componentize-py==0.25.1"
fi
PATH="$PWD/$venv/bin:$PATH" bash plugins/examples/python-share-filter/build.sh

# The JavaScript example policy is built with the jco and componentize-js pinned in its
# package.json (npm, into its git-ignored node_modules/); the conformance suite runs the kit on it.
bash plugins/examples/js-share-filter/build.sh

# The guest SDK is published for plugin authors: its package must build on its own, with the
# contract files it carries.
cargo package -p autobill-guest --locked

cargo test --workspace --locked

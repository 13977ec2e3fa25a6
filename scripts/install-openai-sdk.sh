#!/usr/bin/env bash
# Installs the official OpenAI Python SDK (pinned with its dependencies in
# scripts/python-requirements.txt) into .venv/ of this checkout, the client the SDK tests run
# through the real Envoy, and prints that Python's path. Needs Python >= 3.10 with venv;
# re-running it is cheap (pip keeps the pins).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
requirements=scripts/python-requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
want=$(sed -n 's/^openai==//p' "$requirements")
have=$("$venv/bin/python" -c 'import openai; print(openai.__version__)' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
fi
echo "openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)')" >&2
echo "$PWD/$venv/bin/python"

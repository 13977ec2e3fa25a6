#!/usr/bin/env bash
# Builds Helm (pinned) from its source on the Go module proxy into .venv/bin of this checkout
# and prints the binary's path. Tests find Helm through HELM_BIN, then .venv/bin/helm, then
# PATH. Debian (bookworm) packages no Helm and no registry here ships an official binary, so it
# is compiled: ~4 min of CPU on a fresh Go cache (measured: 3m50s user+sys, 6 min wall on a busy
# 2-core machine), seconds when the Go build cache is warm. Re-running it is cheap.
set -euo pipefail
HELM_VERSION=v3.22.0
cd "$(dirname "$0")/.."
bin=.venv/bin
go=$(command -v go || echo /usr/local/go/bin/go)
built() {
  [ -x "$bin/helm" ] && "$go" version -m "$bin/helm" 2>/dev/null |
    grep -qE "^\s+mod\s+helm\.sh/helm/v3\s+$HELM_VERSION\s"
}
if ! built; then
  mkdir -p "$bin"
  # The version Helm prints is set by its release build; a module build must pass it.
  GOBIN="$PWD/$bin" GOFLAGS=-modcacherw "$go" install \
    -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
fi
"$bin/helm" version --short >&2
echo "$PWD/$bin/helm"

#!/usr/bin/env bash
# Builds envoyproxy/ratelimit (the rate limit service Envoy's rate limit filter calls; the
# budgets of docs/budgets.md) into .venv/bin/ratelimit of this checkout and prints its path.
# Tests find it through RATELIMIT_BIN, then .venv/bin/ratelimit. The project tags no releases
# on the Go module proxy, so a commit is pinned (its pseudo-version); docker-compose.yml runs
# the image built from the same commit. About 2 minutes of CPU on a fresh Go cache, seconds
# when the Go build cache is warm. Redis, which it keeps its counters in, comes from Debian
# (`apt-get install redis-server`, .ci/run).
set -euo pipefail
RATELIMIT_VERSION=v1.4.1-0.20260122083618-3fb702589d36
cd "$(dirname "$0")/.."
bin=.venv/bin
go=$(command -v go || echo /usr/local/go/bin/go)
built() {
  [ -x "$bin/ratelimit" ] && "$go" version -m "$bin/ratelimit" 2>/dev/null |
    grep -qE "^\s+mod\s+github\.com/envoyproxy/ratelimit\s+$RATELIMIT_VERSION\s"
}
if ! built; then
  mkdir -p "$bin"
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  GOBIN="$out" GOFLAGS=-modcacherw "$go" install \
    "github.com/envoyproxy/ratelimit/src/service_cmd@$RATELIMIT_VERSION" >&2
  mv "$out/service_cmd" "$bin/ratelimit"
fi
"$go" version -m "$bin/ratelimit" | grep -E "^\s+mod\s" >&2
echo "$PWD/$bin/ratelimit"

#!/usr/bin/env bash
# Install-once tools for `npm run bench:envoy` and `npm run bench:soak` (not part of CI):
# wrk (Debian's, LuaJIT: a Lua script varies the token per request and counts status codes),
# h2load (the gRPC bench), Envoy (scripts/install-envoy.sh), and OPA-Envoy and vegeta (the
# latency rows' open-loop load), built by `go install` into .bench-bin/ of this checkout
# (ignored by git); the C-core floor needs Debian's python3-grpcio. Idempotent: re-running
# skips what is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
OPA_ENVOY_VERSION=v1.19.1-envoy # `@latest` resolves to a 2022 release: pin the -envoy tag
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
/usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
scripts/install-envoy.sh >/dev/null
bin="$PWD/.bench-bin"
want=${OPA_ENVOY_VERSION#v}
want=${want%-envoy}
if ! "$bin/opa-envoy-plugin" version 2>/dev/null | grep -qx "Version: $want"; then
  if ! GOBIN="$bin" go install "github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin@$OPA_ENVOY_VERSION"; then
    echo "go install failed: put an opa-envoy-plugin $OPA_ENVOY_VERSION binary at $bin/opa-envoy-plugin" >&2
    exit 1
  fi
fi
# vegeta: the open-loop load of the latency rows.
if ! "$bin/vegeta" --version >/dev/null 2>&1; then
  GOBIN="$bin" go install github.com/tsenart/vegeta/v12@v12.13.0
fi
"$bin/opa-envoy-plugin" version | head -1
wrk -v 2>&1 | head -1 || true

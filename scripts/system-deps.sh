#!/usr/bin/env bash
# Debian packages used by the tests and benchmarks: wrk (load generator), chromium (browser test),
# docker-registry (a local image registry standing in for GHCR in the release tests) and Node.js with npm, which
# installs the local OpenID Connect provider of the single sign-on tests (tests/kit/oidc/, pinned by its lock file).
# Installs only what is missing; needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v chromium >/dev/null || missing+=(chromium)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
oidc_provider() {
  if [ ! -d tests/kit/oidc/node_modules/oidc-provider ]; then
    echo "system-deps: installing the test OIDC provider (npm ci in tests/kit/oidc)"
    npm ci --prefix tests/kit/oidc --no-audit --no-fund --loglevel=error
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  oidc_provider
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: please install: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
oidc_provider

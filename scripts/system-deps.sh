#!/usr/bin/env bash
# Debian packages used by the tests and benchmarks: wrk (load generator), chromium (browser test),
# docker-registry (a local image registry standing in for GHCR in the release tests) and Node.js with npm, which
# installs the local OpenID Connect provider of the single sign-on tests (tests/kit/oidc/) and axe-core, the
# accessibility checker of the browser test (tests/kit/axe/), each pinned by its lock file.
# Installs only what is missing; needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v chromium >/dev/null || missing+=(chromium)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
node_packages() {
  for kit in oidc:oidc-provider axe:axe-core; do
    if [ ! -d "tests/kit/${kit%%:*}/node_modules/${kit#*:}" ]; then
      echo "system-deps: installing ${kit#*:} for the tests (npm ci in tests/kit/${kit%%:*})"
      npm ci --prefix "tests/kit/${kit%%:*}" --no-audit --no-fund --loglevel=error
    fi
  done
}
if [ ${#missing[@]} -eq 0 ]; then
  node_packages
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
node_packages

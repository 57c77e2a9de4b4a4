#!/usr/bin/env bash
# Debian packages used by the tests and benchmarks: wrk (load generator), chromium (browser test) and
# docker-registry (a local image registry standing in for GHCR in the release tests).
# Installs only what is missing; needs root for apt.
set -euo pipefail
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v chromium >/dev/null || missing+=(chromium)
command -v docker-registry >/dev/null || missing+=(docker-registry)
if [ ${#missing[@]} -eq 0 ]; then
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

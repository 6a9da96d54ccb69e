#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing:
#   prometheus — the real Prometheus of the integration tests (test/support/prometheus-harness.ts).
#   chromium — headless Debian Chromium, which renders `phoebe simulate --report` pages
#              (test/integration/sim/report.test.ts).
#   a JDK (17) and Maven — the real-cluster test (npm run test:flink) builds its Flink job and
#              runs Flink and Kafka from Maven Central's artifacts (test/support/real-cluster/).
#
# Idempotent and non-interactive: runs as `npm test`'s pretest, in CI as root without a
# terminal. Without root (and without password-less sudo) it installs nothing and says so; the
# tests that need a missing package are then skipped with a message. A failed installation
# warns and carries on, unless PHOEBE_REQUIRE_SYSTEM_DEPS=1 makes it fatal.
set -euo pipefail

log() { printf 'install-system-deps: %s\n' "$*" >&2; }

missing=()
if [ -n "${PHOEBE_PROMETHEUS_BIN:-}" ] && [ -x "${PHOEBE_PROMETHEUS_BIN}" ]; then
  :
elif [ -x /usr/bin/prometheus ] || command -v prometheus >/dev/null 2>&1; then
  :
else
  missing+=(prometheus)
fi
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if ! command -v java >/dev/null 2>&1 && [ -z "${PHOEBE_JAVA_HOME:-}" ] && [ -z "${JAVA_HOME:-}" ]; then
  missing+=(openjdk-17-jdk-headless)
fi
if ! command -v mvn >/dev/null 2>&1; then
  missing+=(maven)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

fail() {
  if [ "${PHOEBE_REQUIRE_SYSTEM_DEPS:-0}" = "1" ]; then
    log "error: $*"
    exit 1
  fi
  log "warning: $*; the tests that need ${missing[*]} will be skipped"
  exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "missing ${missing[*]} and no apt-get to install it with (install it yourself, or set PHOEBE_PROMETHEUS_BIN)"
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    fail "missing ${missing[*]}, and not root: run 'sudo bash test/setup/install-system-deps.sh' once"
  fi
fi

log "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive

# The Debian package would start a Prometheus service on :9090: keep maintainer scripts from
# starting services while we install (the standard policy-rc.d mechanism), then restore.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  if printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null && "${sudo_cmd[@]}" chmod 755 "$policy"; then
    created_policy=1
  fi
fi
cleanup() {
  if [ "$created_policy" = "1" ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

apt() {
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

if ! apt install --no-install-recommends "${missing[@]}"; then
  # Fresh containers often have no package lists yet.
  apt update || fail "apt-get update failed"
  apt install --no-install-recommends "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
fi

if [ -x /usr/bin/prometheus ] || command -v prometheus >/dev/null 2>&1; then
  log "installed: $(prometheus --version 2>&1 | head -n 1)"
else
  fail "prometheus still not found after installing"
fi
if [ -x /usr/bin/chromium ]; then
  log "installed: $(/usr/bin/chromium --version 2>&1 | head -n 1)"
else
  fail "chromium still not found after installing"
fi
if command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
  log "installed: $(java -version 2>&1 | head -n 1); $(mvn -v 2>&1 | head -n 1)"
else
  fail "java or mvn still not found after installing"
fi

#!/usr/bin/env bash
# Makes sure headless Chromium is installed for the browser tests (they run
# it through internal/browsertest, which reads OAUTH2_TEST_CHROMIUM),
# installing Debian's package when absent. Prints the environment to export
# (eval "$(bash scripts/browser.sh)"); all other output goes to stderr.
set -euo pipefail

log() { echo "browser: $*" >&2; }

CHROMIUM=/usr/bin/chromium
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs) # contrib/jsclient's unit tests
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    if [ -n "${CI:-}" ]; then
      log "need root to install ${missing[*]}; in CI the browser tests would fail"
      exit 1
    fi
    log "need root to install ${missing[*]}; the browser tests will be skipped"
    exit 0
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi
[ -x "$CHROMIUM" ] || { log "chromium not found at $CHROMIUM"; exit 1; }
echo "export OAUTH2_TEST_CHROMIUM=$CHROMIUM"

#!/usr/bin/env bash
# Makes sure headless Chromium is installed for the browser test of
# contrib/jsclient, installing Debian's package when absent. Prints the
# environment to export (eval "$(bash scripts/browser.sh)"); all other output
# goes to stderr.
set -euo pipefail

log() { echo "browser: $*" >&2; }

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "need root to install chromium; the browser test will be skipped"
    exit 0
  fi
  log "installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
[ -x "$CHROMIUM" ] || { log "chromium not found at $CHROMIUM"; exit 1; }
echo "export OAUTH2_TEST_CHROMIUM=$CHROMIUM"

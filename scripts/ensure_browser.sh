#!/usr/bin/env bash
# Make sure Debian's Chromium (driven by Playwright's Python API in the console's browser tests and
# bench/screenshots.py) and a CJK font are installed; needs root or sudo the first time. Idempotent:
# nothing is done when /usr/bin/chromium exists. No browser is ever downloaded by Playwright itself.
set -u

log() { echo "ensure_browser: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo -n "$@"; else return 1; fi; }

if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi -e wqy -e "noto sans cjk"; then
  exit 0
fi
if ! have apt-get; then
  log "apt-get not found: install Chromium yourself (browser tests are skipped without it, fail under CI)"
  exit 0
fi
log "installing chromium and a CJK font from Debian packages"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || log "apt-get update failed"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >&2 \
  || log "could not install chromium"
[ -x /usr/bin/chromium ] && log "Chromium is $(/usr/bin/chromium --version 2>/dev/null)"
exit 0

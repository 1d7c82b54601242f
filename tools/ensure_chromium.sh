#!/usr/bin/env bash
# The browser tests (tests/ui) drive Debian's Chromium through Playwright. Install it when missing and
# we can (root with apt-get); otherwise stop with the command to run. Never a silent skip.
set -euo pipefail
CHROMIUM="${MIZZEN_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests (apt-get install -y chromium)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "the browser tests need Chromium at $CHROMIUM: run  sudo apt-get install -y chromium" >&2
echo "(or set MIZZEN_CHROMIUM=/path/to/chromium)" >&2
exit 1

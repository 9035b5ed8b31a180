#!/usr/bin/env bash
# The browser of the web tests: Debian's chromium, driven by Playwright for Python
# (`playwright install` downloads its own build, which cannot work here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
else
    echo "The web tests need /usr/bin/chromium: run 'apt-get install chromium' as root." >&2
    exit 1
fi

#!/usr/bin/env bash
# Tools the benchmarks compare against or drive load with: nginx (a plain reverse proxy) and wrk; Lighthouse
# (npm, pinned to 12.2.3 by bench/lighthouse/package-lock.json) and Debian's Chromium for bench/web.py.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
command -v npm >/dev/null || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]]; then
        echo "ensure-bench-tools: missing ${missing[*]}: run sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    # Debian starts the packaged nginx on port 80: the benchmarks run their own.
    (service nginx stop || nginx -s stop) >/dev/null 2>&1 || true
fi
lighthouse=bench/lighthouse
if ! cmp -s <(sha256sum < "$lighthouse/package-lock.json") "$lighthouse/node_modules/.achats-lock.sha256"; then
    (cd "$lighthouse" && npm ci --no-audit --no-fund --loglevel=error)
    sha256sum < "$lighthouse/package-lock.json" > "$lighthouse/node_modules/.achats-lock.sha256"
fi
echo "ensure-bench-tools: nginx, wrk, pdfsig, chromium and lighthouse $(node "$lighthouse/node_modules/lighthouse/cli/index.js" --version) available"

#!/usr/bin/env bash
# Tools the benchmarks compare against or drive load with: nginx (a plain reverse proxy) and wrk.
set -euo pipefail
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
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
echo "ensure-bench-tools: nginx, wrk and pdfsig available"

#!/usr/bin/env bash
# The web front end's npm packages (web/package.json, pinned by web/package-lock.json): the State design
# system @gouvfr/dsfr, and axe-core for the accessibility tests. Then the asset build (only the DSFR CSS
# the pages use, fingerprinted) and the compiled translation catalogs.
# DSFR_ACCEPT_LICENSE=1: DSFR's install script refuses to run until its licence is accepted. The licence
# reserves the design system for the sites of French public administrations, which this platform is.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
    else
        echo "npm is required for the web assets (apt package npm)" >&2
        exit 1
    fi
fi
stamp=web/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || ! cmp -s <(sha256sum < web/package-lock.json) web/node_modules/.achats-lock.sha256; then
    (cd web && DSFR_ACCEPT_LICENSE=1 npm ci --no-audit --no-fund --loglevel=error)
    sha256sum < web/package-lock.json > web/node_modules/.achats-lock.sha256
fi
"$VENV/bin/python" -m achats.web.assets >/dev/null

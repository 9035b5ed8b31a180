#!/usr/bin/env bash
# Make `python3 -m venv` usable: Debian ships venv/ensurepip separately, in python3-venv.
set -euo pipefail

say() { printf 'ensure-python: %s\n' "$*"; }

# Only a real venv creation proves it works: Debian's python3 has the venv module without ensurepip.
venv_works() {
    local dir rc=0
    command -v python3 >/dev/null || return 1
    dir=$(mktemp -d)
    python3 -m venv "${dir}/venv" >/dev/null 2>&1 || rc=$?
    rm -rf "${dir}"
    return "${rc}"
}

if venv_works; then
    say "python3 -m venv works ($(python3 --version 2>&1)); nothing to do"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    printf 'ensure-python: ERROR: %s\n' "'python3 -m venv' does not work and installing it needs root. Run:" \
        >&2
    printf '    %s\n' "sudo apt-get update" \
        "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv" >&2
    exit 1
fi

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
venv_works || {
    printf 'ensure-python: ERROR: %s\n' "python3 -m venv still fails after installing python3-venv" >&2
    exit 1
}
say "installed python3-venv; python3 -m venv works ($(python3 --version 2>&1))"

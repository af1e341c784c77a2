#!/usr/bin/env bash
# Glance from PyPI in a virtualenv of its own, for testing Kumo against a real Glance
# (tests/functional/test_real_glance.py; tests/fixtures/glance.py runs it).
#
#   tools/glance-venv.sh            make (or complete) the venv
#   tools/glance-venv.sh run [PORT] also run glance-api on 127.0.0.1:PORT (default
#                                   9293) in the foreground: SQLite, a file store and
#                                   no authentication, everything under $GLANCE_DIR
#
# Settings, from the environment:
#   GLANCE_VENV     where the venv goes (default: .kumo/glance-venv in the repository;
#                   the tests look there, or at $KUMO_GLANCE_VENV)
#   GLANCE_VERSION  a pip version spec (default: the newest release, e.g. 33.0.0)
#   GLANCE_DIR      state of `run` (default: .kumo/glance)
#   PYTHON          the interpreter (Glance 33 needs Python >= 3.10)
#
# Glance runs only under a WSGI server since 2025 (`glance-api` itself now refuses to
# start): the venv gets waitress to serve glance.wsgi.api:application. About 35 s on
# a warm pip cache, under two minutes on a cold one. Never installs into Kumo's venv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GLANCE_VENV=${GLANCE_VENV:-${KUMO_GLANCE_VENV:-$REPO/.kumo/glance-venv}}
GLANCE_VERSION=${GLANCE_VERSION:-}
GLANCE_DIR=${GLANCE_DIR:-$REPO/.kumo/glance}
PYTHON=${PYTHON:-python3}

say() { echo "glance-venv: $*"; }

make_venv() {
    if [[ -x $GLANCE_VENV/bin/waitress-serve && -x $GLANCE_VENV/bin/glance-manage ]]; then
        say "$GLANCE_VENV is ready ($("$GLANCE_VENV/bin/pip" show glance | sed -n 's/^Version: //p'))"
        return
    fi
    "$PYTHON" -m venv --help >/dev/null 2>&1 || apt-get install -y -q python3-venv
    local start=$SECONDS
    say "installing glance${GLANCE_VERSION:+==$GLANCE_VERSION} into $GLANCE_VENV"
    "$PYTHON" -m venv "$GLANCE_VENV"
    "$GLANCE_VENV/bin/pip" install -q --upgrade pip
    "$GLANCE_VENV/bin/pip" install -q "glance${GLANCE_VERSION:+==$GLANCE_VERSION}" waitress
    say "done in $((SECONDS - start)) s: $("$GLANCE_VENV/bin/pip" show glance | sed -n 's/^Version: //p')"
}

run_glance() {
    local port=${1:-9293}
    # The same configuration the tests use (tests/fixtures/glance.py write_config).
    mkdir -p "$GLANCE_DIR"/{etc,images,staging,tasks}
    cp "$GLANCE_VENV/etc/glance/glance-api-paste.ini" "$GLANCE_DIR/etc/"
    sed "s|{dir}|$GLANCE_DIR|g" "$REPO/tools/glance/glance-api.conf.in" \
        > "$GLANCE_DIR/etc/glance-api.conf"
    "$GLANCE_VENV/bin/glance-manage" --config-file "$GLANCE_DIR/etc/glance-api.conf" \
        db_sync >/dev/null
    say "glance-api on http://127.0.0.1:$port (set [glance] endpoint to it)"
    OS_GLANCE_CONFIG_DIR=$GLANCE_DIR/etc exec "$GLANCE_VENV/bin/waitress-serve" \
        "--listen=127.0.0.1:$port" glance.wsgi.api:application
}

make_venv
if [[ ${1:-} == run ]]; then
    run_glance "${2:-}"
fi

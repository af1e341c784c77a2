#!/usr/bin/env bash
# Nova from PyPI in a virtualenv of its own, for comparing Kumo with a real Nova on the
# same machine (benchmarks/nova_side_by_side.py runs this when the venv is missing).
#
#   tools/nova-venv.sh              make (or complete) the venv
#
# Settings, from the environment:
#   NOVA_VENV     where the venv goes (default: .kumo/nova-venv in the repository)
#   NOVA_VERSION  the release (default 34.0.0, the one benchmarks/README.md reports;
#                 empty: the newest)
#   PYTHON        the interpreter (default: pyenv's 3.11.7 if present, else python3)
#
# Besides nova the venv gets waitress (the WSGI server that serves
# nova.wsgi.osapi_compute:application: since Nova 33 there is no nova-api script and
# deployments point a WSGI server at that module; waitress is pure Python and is what
# kumo-api runs under) and psycopg2-binary (Nova's connection to PostgreSQL). Nova
# publishes no pins on PyPI (the upper-constraints live in openstack/requirements),
# so pip resolves the newest releases within nova's own requirements (it does for
# 34.0.0); if that fails the script says so and exits non-zero. Never installs into
# Kumo's venv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NOVA_VENV=${NOVA_VENV:-$REPO/.kumo/nova-venv}
NOVA_VERSION=${NOVA_VERSION-34.0.0}
if [[ -z ${PYTHON:-} ]]; then
    PYTHON=/root/.pyenv/versions/3.11.7/bin/python3
    [[ -x $PYTHON ]] || PYTHON=python3
fi

say() { echo "nova-venv: $*"; }

version() { "$NOVA_VENV/bin/pip" show nova 2>/dev/null | sed -n 's/^Version: //p'; }

if [[ -x $NOVA_VENV/bin/waitress-serve && -x $NOVA_VENV/bin/nova-manage ]] &&
        "$NOVA_VENV/bin/python" -c 'import nova.api.openstack.wsgi_app, psycopg2' 2>/dev/null &&
        [[ -z $NOVA_VERSION || $(version) == "$NOVA_VERSION" ]]; then
    say "$NOVA_VENV is ready (nova $(version))"
    exit 0
fi
start=$SECONDS
say "installing nova${NOVA_VERSION:+==$NOVA_VERSION} into $NOVA_VENV with $PYTHON"
[[ -x $NOVA_VENV/bin/pip ]] || "$PYTHON" -m venv "$NOVA_VENV"
"$NOVA_VENV/bin/pip" install -q --upgrade pip
"$NOVA_VENV/bin/pip" install -q "nova${NOVA_VERSION:+==$NOVA_VERSION}" waitress psycopg2-binary
"$NOVA_VENV/bin/python" -W ignore -c 'import nova.api.openstack.wsgi_app, psycopg2'
say "done in $((SECONDS - start)) s: nova $(version)"

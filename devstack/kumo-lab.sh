#!/usr/bin/env bash
# Kumo behind a real Keystone, on one machine: the lab install.
#
#   devstack/kumo-lab.sh start    install Keystone 30 from PyPI into its own venv, run it
#                                 on 127.0.0.1:5000 (SQLite, fernet tokens), bootstrap an
#                                 admin and a demo project, register Kumo's compute, image
#                                 and network endpoints, start kumo-all with
#                                 [api] auth_strategy = keystone, write clouds.yaml
#   devstack/kumo-lab.sh stop     stop Kumo and Keystone
#   devstack/kumo-lab.sh status   what runs, and how to reach it
#
# Then:  export OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=kumo-demo
#        openstack server create --image cirros-0.6.2-x86_64-disk --flavor m1.tiny \
#            --network private vm1 --wait
#
# Kumo itself must be installed first (`make venv`: its .venv/ holds kumo-all and the
# openstack CLI). Settings, from the environment:
#   LAB_DIR          where everything lives (default: .kumo/lab under the repository)
#   KUMO_VENV        Kumo's virtualenv (default: .venv under the repository)
#   KEYSTONE_VERSION (default 30.0.0; Keystone 30 needs Python >= 3.11)
#   LAB_HOST         address every service listens on (default 127.0.0.1)
#   KEYSTONE_PORT, COMPUTE_PORT, IMAGE_PORT, NETWORK_PORT (5000, 8774, 9292, 9696)
#   ADMIN_PASSWORD, DEMO_PASSWORD, SERVICE_PASSWORD (default: "kumo-lab-<role>")
#   COMPUTES         fake compute agents kumo-all runs (default 2)
#   KEYSTONE_DB_URL  Keystone's database (default: SQLite in LAB_DIR). SQLite answers
#                    "database is locked" (500s) to concurrent writers such as Tempest
#                    at concurrency 2; a PostgreSQL or MariaDB URL avoids it, e.g.
#                    postgresql://postgres@127.0.0.1/kumo_lab_keystone (made if
#                    missing; its driver is installed into Keystone's venv)
#
# DevStack's plugin (devstack/plugin.sh) does the same steps inside a DevStack run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/.kumo/lab}
KUMO_VENV=${KUMO_VENV:-$REPO/.venv}
KEYSTONE_VERSION=${KEYSTONE_VERSION:-30.0.0}
KEYSTONE_VENV=${KEYSTONE_VENV:-$LAB_DIR/keystone-venv}
LAB_HOST=${LAB_HOST:-127.0.0.1}
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
COMPUTE_PORT=${COMPUTE_PORT:-8774}
IMAGE_PORT=${IMAGE_PORT:-9292}
NETWORK_PORT=${NETWORK_PORT:-9696}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-kumo-lab-admin}
DEMO_PASSWORD=${DEMO_PASSWORD:-kumo-lab-demo}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-kumo-lab-service}
COMPUTES=${COMPUTES:-2}
KEYSTONE_DB_URL=${KEYSTONE_DB_URL:-sqlite:///$LAB_DIR/keystone/keystone.sqlite}
# (psycopg2 is the driver installed for it; SQLAlchemy 2.1 would pick psycopg 3.)
[[ $KEYSTONE_DB_URL == postgresql://* ]] \
    && KEYSTONE_DB_URL=postgresql+psycopg2://${KEYSTONE_DB_URL#postgresql://}
REGION=RegionOne
PYTHON=${PYTHON:-python3}

KEYSTONE_URL="http://$LAB_HOST:$KEYSTONE_PORT/v3"
COMPUTE_URL="http://$LAB_HOST:$COMPUTE_PORT/v2.1"
IMAGE_URL="http://$LAB_HOST:$IMAGE_PORT"
NETWORK_URL="http://$LAB_HOST:$NETWORK_PORT"

say() { echo "kumo-lab: $*"; }
die() { echo "kumo-lab: $*" >&2; exit 1; }

wait_http() {  # wait_http URL SECONDS PIDFILE
    local deadline=$((SECONDS + $2))
    until "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
            "$1" 2>/dev/null; do
        if [[ -n ${3:-} ]] && ! kill -0 "$(cat "$3")" 2>/dev/null; then
            return 1
        fi
        (( SECONDS < deadline )) || return 1
        sleep 0.5
    done
}

stop_pid() {  # stop_pid PIDFILE
    [[ -f $1 ]] || return 0
    local pid; pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# --- Keystone ------------------------------------------------------------------------
install_keystone() {
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Keystone $KEYSTONE_VERSION needs Python >= 3.11 ($PYTHON is older)"
    local installed
    installed=$("$KEYSTONE_VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("keystone"))' 2>/dev/null || true)
    if [[ $installed != "$KEYSTONE_VERSION" \
            || ! -x $KEYSTONE_VENV/bin/waitress-serve ]]; then
        say "installing Keystone $KEYSTONE_VERSION into $KEYSTONE_VENV"
        "$PYTHON" -m venv "$KEYSTONE_VENV"
        "$KEYSTONE_VENV/bin/pip" install -q --upgrade pip
        # waitress serves keystone.wsgi.api (Keystone no longer ships a server script).
        "$KEYSTONE_VENV/bin/pip" install -q "keystone==$KEYSTONE_VERSION" waitress
    fi
    case $KEYSTONE_DB_URL in
        postgresql*) "$KEYSTONE_VENV/bin/pip" install -q psycopg2-binary ;;
        mysql*) "$KEYSTONE_VENV/bin/pip" install -q PyMySQL ;;
    esac
}

create_keystone_database() {  # a server database Keystone's URL names, if missing
    [[ $KEYSTONE_DB_URL == sqlite* ]] && return 0
    "$KUMO_VENV/bin/python" - "$KEYSTONE_DB_URL" <<'PY'
import sys
import sqlalchemy as sa
url = sa.make_url(sys.argv[1])
admin = url.set(database='postgres' if url.get_backend_name() == 'postgresql' else None)
engine = sa.create_engine(admin, isolation_level='AUTOCOMMIT')
with engine.connect() as conn:
    if url.get_backend_name() == 'postgresql':
        exists = conn.exec_driver_sql('SELECT 1 FROM pg_database WHERE datname = %(n)s',
                                      {'n': url.database}).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    else:
        conn.exec_driver_sql(f'CREATE DATABASE IF NOT EXISTS `{url.database}`')
PY
}

configure_keystone() {
    mkdir -p "$LAB_DIR/keystone/fernet-keys" "$LAB_DIR/keystone/credential-keys"
    cat > "$LAB_DIR/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LAB_DIR/keystone/keystone.log
[database]
connection = $KEYSTONE_DB_URL
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $LAB_DIR/keystone/fernet-keys
[fernet_receipts]
key_repository = $LAB_DIR/keystone/fernet-keys
[credential]
key_repository = $LAB_DIR/keystone/credential-keys
EOF
    local manage=("$KEYSTONE_VENV/bin/keystone-manage" --config-file
                  "$LAB_DIR/keystone/keystone.conf")
    "${manage[@]}" db_sync
    "${manage[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
    "${manage[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
    "${manage[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-admin-url "$KEYSTONE_URL" --bootstrap-public-url "$KEYSTONE_URL" \
        --bootstrap-internal-url "$KEYSTONE_URL" --bootstrap-region-id "$REGION"
}

start_keystone() {
    say "starting Keystone on $KEYSTONE_URL"
    # Keystone's app parses the process's own arguments as oslo.config options: load
    # it from a bare interpreter and hand it to waitress.
    OS_KEYSTONE_CONFIG_FILES="$LAB_DIR/keystone/keystone.conf" \
        nohup "$KEYSTONE_VENV/bin/python" -c '
import sys, waitress
host, port = sys.argv[1], int(sys.argv[2])
del sys.argv[1:]
from keystone.wsgi.api import application
waitress.serve(application, host=host, port=port, threads=8)
' "$LAB_HOST" "$KEYSTONE_PORT" > "$LAB_DIR/keystone/waitress.out" 2>&1 &
    echo $! > "$LAB_DIR/keystone.pid"
    wait_http "$KEYSTONE_URL" 60 "$LAB_DIR/keystone.pid" \
        || die "Keystone did not answer: $(tail -20 "$LAB_DIR/keystone/waitress.out")"
}

# `openstack` as Keystone's admin (password auth), for the catalog and accounts.
os_admin() {
    env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$KUMO_VENV/bin/openstack" \
        --os-auth-url "$KEYSTONE_URL" --os-identity-api-version 3 \
        --os-username admin --os-password "$ADMIN_PASSWORD" --os-project-name admin \
        --os-user-domain-name Default --os-project-domain-name Default \
        --os-region-name "$REGION" "$@"
}

register_accounts_and_catalog() {
    say "creating the demo and service projects, users and Kumo's endpoints"
    os_admin project create --or-show --domain Default demo -f value -c id >/dev/null
    os_admin project create --or-show --domain Default service -f value -c id >/dev/null
    os_admin user create --or-show --domain Default --password "$DEMO_PASSWORD" demo \
        -f value -c id >/dev/null
    os_admin user create --or-show --domain Default --password "$SERVICE_PASSWORD" kumo \
        -f value -c id >/dev/null
    os_admin role add --project demo --user demo member
    os_admin role add --project service --user kumo admin
    # keystonemiddleware's service tokens carry the "service" role.
    os_admin role create --or-show service -f value -c id >/dev/null
    os_admin role add --project service --user kumo service
    local type name url
    for entry in "compute nova $COMPUTE_URL" "image glance $IMAGE_URL" \
                 "network neutron $NETWORK_URL"; do
        read -r type name url <<< "$entry"
        if [[ -z $(os_admin service list -f value -c Type | grep -x "$type" || true) ]]; then
            os_admin service create --name "$name" --description "Kumo $type" "$type" \
                >/dev/null
        fi
        for interface in public internal admin; do
            if [[ -z $(os_admin endpoint list --service "$type" --interface "$interface" \
                        -f value -c ID) ]]; then
                os_admin endpoint create --region "$REGION" "$type" "$interface" "$url" \
                    >/dev/null
            fi
        done
    done
}

# --- Kumo ----------------------------------------------------------------------------
configure_kumo() {
    mkdir -p "$LAB_DIR/kumo"
    cat > "$LAB_DIR/kumo/kumo.conf" <<EOF
[DEFAULT]
state_path = $LAB_DIR/kumo/state
transport_url = fake://
log_file = $LAB_DIR/kumo/kumo-all.log
[database]
connection = sqlite:///$LAB_DIR/kumo/kumo.sqlite
[api]
auth_strategy = keystone
listen = $LAB_HOST
listen_port = $COMPUTE_PORT
[compute]
virt_driver = ${KUMO_VIRT_DRIVER:-fake}
[image_service]
listen = $LAB_HOST
listen_port = $IMAGE_PORT
[network_service]
listen = $LAB_HOST
listen_port = $NETWORK_PORT
[glance]
endpoint = $IMAGE_URL
[neutron]
endpoint = $NETWORK_URL
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = kumo
password = $SERVICE_PASSWORD
region_name = $REGION
service_token_roles_required = true
EOF
    "$KUMO_VENV/bin/kumo-manage" --config-file "$LAB_DIR/kumo/kumo.conf" db sync
    "$KUMO_VENV/bin/kumo-manage" --config-file "$LAB_DIR/kumo/kumo.conf" seed
}

start_kumo() {
    say "starting kumo-all (compute $COMPUTE_URL, image $IMAGE_URL, network $NETWORK_URL)"
    nohup "$KUMO_VENV/bin/kumo-all" --config-file "$LAB_DIR/kumo/kumo.conf" \
        --computes "$COMPUTES" > "$LAB_DIR/kumo/kumo-all.out" 2>&1 &
    echo $! > "$LAB_DIR/kumo.pid"
    local deadline=$((SECONDS + 90))
    until grep -q 'Kumo is up' "$LAB_DIR/kumo/kumo-all.out" 2>/dev/null; do
        kill -0 "$(cat "$LAB_DIR/kumo.pid")" 2>/dev/null \
            || die "kumo-all exited: $(tail -20 "$LAB_DIR/kumo/kumo-all.out")"
        (( SECONDS < deadline )) || die "kumo-all did not come up"
        sleep 0.5
    done
    wait_http "http://$LAB_HOST:$COMPUTE_PORT/" 60 "$LAB_DIR/kumo.pid" \
        || die "the compute API did not answer"
}

write_clouds_yaml() {
    cat > "$LAB_DIR/clouds.yaml" <<EOF
# Written by devstack/kumo-lab.sh: Kumo behind the lab's Keystone.
clouds:
  kumo-admin:
    auth:
      auth_url: $KEYSTONE_URL
      username: admin
      password: $ADMIN_PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
    compute_api_version: '2.100'
  kumo-demo:
    auth:
      auth_url: $KEYSTONE_URL
      username: demo
      password: $DEMO_PASSWORD
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
    compute_api_version: '2.100'
EOF
    say "wrote $LAB_DIR/clouds.yaml"
}

cmd_start() {
    [[ -x $KUMO_VENV/bin/kumo-all ]] || die "Kumo is not installed in $KUMO_VENV (make venv)"
    mkdir -p "$LAB_DIR"
    cmd_stop >/dev/null
    install_keystone
    if [[ ! -f $LAB_DIR/keystone/configured || $(cat "$LAB_DIR/keystone/configured") \
            != "$KEYSTONE_DB_URL" ]]; then
        create_keystone_database
        configure_keystone
        echo "$KEYSTONE_DB_URL" > "$LAB_DIR/keystone/configured"
    fi
    start_keystone
    register_accounts_and_catalog
    configure_kumo
    start_kumo
    write_clouds_yaml
    cmd_status
}

cmd_stop() {
    stop_pid "$LAB_DIR/kumo.pid"
    stop_pid "$LAB_DIR/keystone.pid"
    say "stopped"
}

cmd_status() {
    local state
    for name in keystone kumo; do
        state=stopped
        if [[ -f $LAB_DIR/$name.pid ]] && kill -0 "$(cat "$LAB_DIR/$name.pid")" 2>/dev/null
        then state="running (pid $(cat "$LAB_DIR/$name.pid"))"; fi
        say "$name: $state"
    done
    say "Keystone $KEYSTONE_URL; compute $COMPUTE_URL; image $IMAGE_URL; network $NETWORK_URL"
    say "export OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=kumo-demo  (or kumo-admin)"
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

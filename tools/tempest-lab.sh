#!/usr/bin/env bash
# Run Tempest's compute API tests against the lab install (devstack/kumo-lab.sh).
#
#   devstack/kumo-lab.sh start
#   tools/tempest-lab.sh ['^tempest\.api\.compute\.servers\.test_servers']  [extra tempest run args]
#
# Installs Tempest into its own venv, makes a Tempest workspace, writes tempest.conf from
# the running lab (admin credentials, the seeded image/flavors/network), then runs
# `tempest run --regex REGEX`. Results: $TEMPEST_DIR/results.txt (and .stestr/ there).
# Settings, from the environment (LAB_DIR and the passwords must match kumo-lab.sh's):
#   LAB_DIR          (default .kumo/lab under the repository)
#   TEMPEST_VENV     (default $LAB_DIR/tempest-venv)   TEMPEST_VERSION (default: newest)
#   TEMPEST_DIR      the workspace (default $LAB_DIR/tempest)
#   CONCURRENCY      (default 2; the lab's Keystone runs on SQLite, and at 2 a few
#                    dynamic-credential calls can hit "database is locked" 500s)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/.kumo/lab}
KUMO_VENV=${KUMO_VENV:-$REPO/.venv}
TEMPEST_VENV=${TEMPEST_VENV:-$LAB_DIR/tempest-venv}
TEMPEST_DIR=${TEMPEST_DIR:-$LAB_DIR/tempest}
LAB_HOST=${LAB_HOST:-127.0.0.1}
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-kumo-lab-admin}
CONCURRENCY=${CONCURRENCY:-2}
REGEX=${1:-'^tempest\.api\.compute\.'}
shift || true

[[ -f $LAB_DIR/clouds.yaml ]] || { echo "no $LAB_DIR/clouds.yaml: run devstack/kumo-lab.sh start" >&2; exit 1; }

# 1. Tempest in its own venv (it pins its own oslo/keystoneauth, apart from Kumo's).
if [[ ! -x $TEMPEST_VENV/bin/tempest ]]; then
    python3 -m venv "$TEMPEST_VENV"
    "$TEMPEST_VENV/bin/pip" install -q --upgrade pip
    "$TEMPEST_VENV/bin/pip" install -q "tempest${TEMPEST_VERSION:+==$TEMPEST_VERSION}"
fi
[[ -f $TEMPEST_DIR/etc/tempest.conf ]] || "$TEMPEST_VENV/bin/tempest" init "$TEMPEST_DIR"

# 2. Read what the lab seeded (the cirros image; m1.tiny/m1.small; the shared network).
# (awk, not head: under pipefail a head that stops reading fails the pipeline.)
os() { OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=kumo-admin "$KUMO_VENV/bin/openstack" "$@"; }
IMAGE=$(os image list --status active -f value -c ID -c Name | awk '/cirros/ && !n++ {print $1}')
FLAVOR=$(os flavor show m1.tiny -f value -c id)
FLAVOR_ALT=$(os flavor show m1.small -f value -c id)
NETWORK=$(os network list -f value -c Name | awk '!n++')
[[ -n $IMAGE && -n $NETWORK ]] || { echo "no cirros image or no network in the lab" >&2; exit 1; }
# A second image (a copy of the first) for the tests that rebuild onto another image.
IMAGE_ALT=$(os image list --status active -f value -c ID -c Name | awk '$2 == "cirros-alt" && !n++ {print $1}')
if [[ -z $IMAGE_ALT ]]; then
    os image save --file "$LAB_DIR/cirros-alt.img" "$IMAGE"
    IMAGE_ALT=$(os image create --public \
        --disk-format "$(os image show -f value -c disk_format "$IMAGE")" \
        --container-format "$(os image show -f value -c container_format "$IMAGE")" \
        --file "$LAB_DIR/cirros-alt.img" -f value -c id cirros-alt)
    rm -f "$LAB_DIR/cirros-alt.img"
fi
# The filters Kumo's scheduler runs (the lab keeps [filter_scheduler] enabled_filters'
# default): Tempest runs the hint tests (same_host, different_host) only for these.
FILTERS=$("$KUMO_VENV/bin/python" -c 'from kumo_common.conf import filter_scheduler as f; print(",".join(f.DEFAULT_FILTERS))')

# 3. tempest.conf. Kumo has no routers/floating IPs (so no isolated networks: the
# dynamic projects use the shared network), no Cinder, no consoles in the lab (its fake
# driver has none); changePassword works with the fake driver (no guest agent needed).
cat > "$TEMPEST_DIR/etc/tempest.conf" <<EOF
[DEFAULT]
log_dir = $TEMPEST_DIR/logs
log_file = tempest.log
[auth]
use_dynamic_credentials = true
create_isolated_networks = false
admin_username = admin
admin_password = $ADMIN_PASSWORD
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
[identity]
uri_v3 = http://$LAB_HOST:$KEYSTONE_PORT/v3
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[service_available]
nova = true
glance = true
neutron = true
cinder = false
swift = false
heat = false
horizon = false
placement = false
[compute]
image_ref = $IMAGE
image_ref_alt = $IMAGE_ALT
flavor_ref = $FLAVOR
flavor_ref_alt = $FLAVOR_ALT
fixed_network_name = $NETWORK
min_compute_nodes = 2
min_microversion = 2.1
max_microversion = 2.100
build_timeout = 120
[compute-feature-enabled]
live_migration = true
live_migrate_back_and_forth = true
# Kumo's hosts share no storage: every live migration copies the disks.
block_migration_for_live_migration = true
cold_migration = true
vnc_console = false
spice_console = false
serial_console = false
interface_attach = true
change_password = true
hostname_fqdn_sanitization = true
scheduler_enabled_filters = $FILTERS
metadata_service = false
personality = false
config_drive = false
attach_encrypted_volume = false
swap_volume = false
volume_multiattach = false
console_output = true
resize = true
shelve = true
snapshot = true
rescue = true
pause = true
suspend = true
[validation]
run_validation = false
[network]
public_network_id =
floating_network_name =
[network-feature-enabled]
floating_ips = false
ipv6 = false
[image-feature-enabled]
import_image = false
EOF

# 4. Run.
mkdir -p "$TEMPEST_DIR/logs"
cd "$TEMPEST_DIR"
rc=0
"$TEMPEST_VENV/bin/tempest" run --regex "$REGEX" --concurrency "$CONCURRENCY" "$@" \
    > "$TEMPEST_DIR/run.log" 2>&1 || rc=$?
"$TEMPEST_VENV/bin/stestr" last --subunit | "$TEMPEST_VENV/bin/subunit2pyunit" \
    > "$TEMPEST_DIR/results.txt" 2>&1 || true
tail -n 12 "$TEMPEST_DIR/run.log"
exit $rc

#!/usr/bin/env bash
# Start/stop a second, independent privileged libvirtd beside the machine's main one
# (qemu:///system), as a second "compute host" to live-migrate guests to and back.
#
#   second-libvirtd.sh start     start it (if not running); prints its URI
#   second-libvirtd.sh stop      destroy+undefine its guests, stop it (keeps $BASE)
#   second-libvirtd.sh clean     stop, then remove $BASE
#   second-libvirtd.sh status    exit 0 if it runs and answers
#   second-libvirtd.sh uri       its URI (works from the root mount namespace)
#   second-libvirtd.sh main-uri  a URI of the MAIN daemon that works from BOTH
#                                namespaces: what the second daemon must dial when it
#                                is the source of a --p2p migration back
#
# How: `unshare -m` (a private mount namespace) in which directories under $BASE are
# bind-mounted over the libvirt state paths (/etc/libvirt, /run/libvirt (= /var/run/
# libvirt), /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt), so the main
# daemon's config, sockets, pid files, domain state and qemu driver lock are neither
# seen nor touched; the mounts exist only inside that namespace (nothing to unmount:
# it goes away with its last process). Network and PID namespaces are shared, so the
# migration stream goes over the loopback and the incoming port range must differ.
# The namespace runs its own virtlogd too (pid file and sockets in $BASE/run).
# Needs root; libvirtd (the monolithic one: Debian 12 ships no virtqemud).
set -euo pipefail

BASE=${LM_BASE:-/tmp/kumo-second-libvirtd}
# Fixed and distinct from the main daemon's: libvirt refuses to migrate between two
# daemons with the same host UUID ("Attempt to migrate guest to the same host").
HOST_UUID=${LM_HOST_UUID:-5e0c0a2d-0000-4000-8000-00000000c0d2}
PORT_MIN=${LM_PORT_MIN:-49216}
PORT_MAX=${LM_PORT_MAX:-49279}
WAIT_SECONDS=${WAIT_SECONDS:-60}
# Both daemons name a guest's cgroup machine/qemu-<ID>-<NAME>.libvirt-qemu and each
# counts IDs from 1 (a fresh pair meets at once): then, during a migration, the guest
# shares one cgroup on both sides (it works, but the source logs "Failed to remove
# cgroup" and the two daemons write the same cgroup). By default the second daemon
# puts its guests in no libvirt cgroup at all; LM_CGROUPS=1 keeps libvirt's default.
if [[ ${LM_CGROUPS:-0} == 1 ]]; then
    CGROUP_LINE='# cgroup_controllers: the default'
else
    CGROUP_LINE='cgroup_controllers = [ ]'
fi

SOCK=$BASE/run/libvirt-sock
URI="qemu+unix:///system?socket=$SOCK"
PIDFILE=$BASE/run/libvirtd.pid

# $BASE/<key> is mounted over <value> in the second daemon's namespace.
declare -A MOUNTS=(
    [etc]=/etc/libvirt
    [run]=/run/libvirt
    [lib]=/var/lib/libvirt
    [cache]=/var/cache/libvirt
    [log]=/var/log/libvirt
)

# /proc/PID/root of the main libvirtd is its view of the file system (the root mount
# namespace): this path reaches the main daemon's socket from inside the second
# daemon's namespace too (where /run/libvirt is ours). Not /proc/1/root: PID 1 may
# be in another namespace or unreadable (here it is both). It changes when the main
# daemon restarts, so it is computed when asked for.
main_uri() {
    local pid
    pid=$(cat /run/libvirtd.pid 2>/dev/null || pgrep -o -x libvirtd)
    echo "qemu+unix:///system?socket=/proc/$pid/root/run/libvirt/libvirt-sock"
}

answers() {
    timeout 10 virsh -c "$URI" version >/dev/null 2>&1
}

running_pid() {
    local pid
    [[ -s $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ -d /proc/$pid && $(cat "/proc/$pid/comm" 2>/dev/null) == libvirtd ]] || return 1
    echo "$pid"
}

prepare() {
    mkdir -p "$BASE"/{etc,run,lib,cache,log}
    if [[ ! -e $BASE/etc/libvirtd.conf ]]; then
        # The package's config files, without what the main daemon defined (domains,
        # networks, pools, secrets, autostart links).
        cp -a /etc/libvirt/. "$BASE/etc/"
        find "$BASE/etc/qemu" -maxdepth 1 -name '*.xml' -delete
        rm -rf "$BASE/etc/qemu/autostart" "$BASE/etc/storage" "$BASE/etc/secrets"
        rm -f "$BASE/etc/qemu/networks/"*.xml "$BASE/etc/qemu/networks/autostart/"*
    fi
    # State directories as the Debian package makes them (QEMU runs as libvirt-qemu).
    mkdir -p "$BASE/lib/qemu" "$BASE/lib/images" "$BASE/lib/boot" "$BASE/cache/qemu" \
        "$BASE/log/qemu"
    chown libvirt-qemu:libvirt-qemu "$BASE/lib/qemu"
    chmod 0750 "$BASE/lib/qemu"
    chmod 0711 "$BASE/cache" "$BASE/cache/qemu" "$BASE/lib/images" "$BASE/lib/boot"
    chmod 0755 "$BASE/run"
    # QEMU capabilities probed by the main daemon (same binaries): saves the ~8 s a
    # first start spends probing. libvirt re-probes if they do not match.
    if [[ -d /var/cache/libvirt/qemu/capabilities && ! -d $BASE/cache/qemu/capabilities ]]; then
        cp -a /var/cache/libvirt/qemu/capabilities "$BASE/cache/qemu/"
    fi
    cat >"$BASE/etc/libvirtd.conf" <<EOF
# Second libvirtd for migration tests (see second-libvirtd.sh).
host_uuid = "$HOST_UUID"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$BASE/etc/qemu.conf" <<EOF
# Second libvirtd for migration tests (see second-libvirtd.sh).
# Incoming migration (and NBD, for --copy-storage-*) ports: not the main daemon's
# default 49152-49215, the two daemons share the network namespace.
migration_port_min = $PORT_MIN
migration_port_max = $PORT_MAX
# (migration_host = "127.0.0.1" is refused: "must not be the address of the local
# machine". The default, the host name, must resolve to this machine.)
$CGROUP_LINE
# stdio_handler: the default, "logd": our own virtlogd (the main one's socket is
# hidden by our /run/libvirt), as the main daemon does. It also opens file serial
# consoles for QEMU: with "file", libvirt chowns them instead (remembering the owner
# in xattrs), and two daemons doing so on one path fail ("Setting different DAC user
# or group on .../console.log which is already in use").
EOF
}

start() {
    local pid key binds="" t0
    if pid=$(running_pid) && answers; then
        echo "second-libvirtd: already running (pid $pid)" >&2
        echo "$URI"
        return 0
    fi
    prepare
    rm -f "$PIDFILE" "$SOCK" "$BASE/run/libvirt-sock-ro" "$BASE/run/libvirt-admin-sock" \
        "$BASE/run/virtlogd.pid" "$BASE/run/virtlogd-sock" "$BASE/run/virtlogd-admin-sock"
    for key in "${!MOUNTS[@]}"; do
        binds+="mount --bind '$BASE/$key' '${MOUNTS[$key]}'; "
    done
    t0=$(date +%s.%N)
    # unshare's mounts are private (no propagation to the root namespace); libvirtd -d
    # forks, and the daemon (then its QEMUs) keeps the namespace alive.
    unshare -m --propagation private sh -ec \
        "${binds} virtlogd -d -p /run/libvirt/virtlogd.pid;
         exec libvirtd -d -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid"
    local deadline=$((SECONDS + WAIT_SECONDS)) grace=$((SECONDS + 3))
    until answers; do
        if ((SECONDS >= deadline)) || { ((SECONDS >= grace)) && ! running_pid >/dev/null; }; then
            echo "second-libvirtd: no answer at $URI; see $BASE/log/libvirtd.log:" >&2
            tail -n 5 "$BASE/log/libvirtd.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    echo "second-libvirtd: started (pid $(running_pid)) in" \
        "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")s" >&2
    echo "$URI"
}

# Our virtlogd (in the same namespace), after libvirtd.
stop_virtlogd() {
    local pid
    [[ -s $BASE/run/virtlogd.pid ]] || return 0
    pid=$(<"$BASE/run/virtlogd.pid")
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == virtlogd ]]; then
        kill "$pid" || true
    fi
    rm -f "$BASE/run/virtlogd.pid"
}

stop() {
    local pid dom
    if ! pid=$(running_pid); then
        stop_virtlogd
        echo "second-libvirtd: not running" >&2
        return 0
    fi
    # Leave no QEMU behind: it would keep the namespace (and its files) alive.
    if answers; then
        for dom in $(virsh -c "$URI" list --all --name); do
            virsh -c "$URI" destroy "$dom" >/dev/null 2>&1 || true
            virsh -c "$URI" undefine "$dom" >/dev/null 2>&1 || true
        done
    fi
    kill "$pid"
    for _ in $(seq 100); do
        [[ -d /proc/$pid ]] || break
        sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
        echo "second-libvirtd: pid $pid did not stop on SIGTERM; killing it" >&2
        kill -9 "$pid" || true
    fi
    rm -f "$PIDFILE"
    stop_virtlogd
    echo "second-libvirtd: stopped" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    clean) stop && rm -rf "$BASE" ;;
    status) running_pid >/dev/null && answers ;;
    uri) echo "$URI" ;;
    main-uri) main_uri ;;
    *) echo "usage: $0 start|stop|clean|status|uri|main-uri" >&2; exit 2 ;;
esac

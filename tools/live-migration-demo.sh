#!/usr/bin/env bash
# Live-migrate a Kumo test guest from the main libvirtd (qemu:///system) to a second
# libvirtd (second-libvirtd.sh) and back, checking that it keeps running.
#
#   tools/live-migration-demo.sh      non-shared storage: per-"host" directories, the
#                                     destination's empty disk created first,
#                                     --copy-storage-all and --xml with the
#                                     destination's paths (what Nova does)
#   MODE=inc      ...                 the same with qcow2 overlays on a per-host _base
#                                     image and --copy-storage-inc (only the overlay
#                                     is copied; Kumo's disks are overlays of its
#                                     image cache)
#   MODE=shared   ...                 one disk path for both (same file system): needs
#                                     --unsafe
#   MODE=diskless ...                 kernel + initramfs + config drive only
#   KEEP=1        ...                 leave the second daemon running afterwards
#   P2P=0         ...                 client-driven migration (virsh talks to both
#                                     daemons) instead of --p2p
#
# The guest's config drive holds user_data lines "echo KUMO-TICK n; sleep 1", so the
# serial console logs a tick a second: after each move the destination's log must go
# on from the last tick of the source's, with no second boot.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GUEST_SRC=${GUEST_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.kumo/guest}
WORK=${WORK:-/tmp/kumo-live-migration-demo}
MODE=${MODE:-copy}
P2P=${P2P:-1}
NAME=lm-demo
MAIN=qemu:///system
MB=128

log() { echo "demo: $*" >&2; }
die() { echo "demo: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

cleanup() {
    virsh -c "$MAIN" destroy "$NAME" >/dev/null 2>&1 || true
    virsh -c "$MAIN" undefine "$NAME" >/dev/null 2>&1 || true
    if [[ -n ${SECOND:-} ]]; then
        virsh -c "$SECOND" destroy "$NAME" >/dev/null 2>&1 || true
        virsh -c "$SECOND" undefine "$NAME" >/dev/null 2>&1 || true
        [[ ${KEEP:-0} == 1 ]] || "$HERE/second-libvirtd.sh" stop
    fi
}
trap cleanup EXIT

case $MODE in
    copy) STORAGE=(--copy-storage-all) ;;
    inc) STORAGE=(--copy-storage-inc) ;;
    shared) STORAGE=(--unsafe) ;;
    diskless) STORAGE=() ;;
    *) die "MODE must be copy, inc, shared or diskless" ;;
esac
# Two "hosts": one directory each, except where the point is sharing one.
if [[ $MODE == shared || $MODE == diskless ]]; then
    DIR_A=$WORK/shared DIR_B=$WORK/shared
else
    DIR_A=$WORK/hostA DIR_B=$WORK/hostB
fi
FLAGS=(--live --persistent --undefinesource "${STORAGE[@]}")
((P2P)) && FLAGS+=(--p2p)

virsh -c "$MAIN" domid "$NAME" >/dev/null 2>&1 && die "$NAME exists on $MAIN already"
rm -rf "$WORK"
mkdir -p "$WORK/cd/openstack/latest" "$DIR_A" "$DIR_B"

t=$(now)
SECOND=$("$HERE/second-libvirtd.sh" start)
log "second daemon at $SECOND (start took $(since "$t")s)"
# The second daemon dials this one for a --p2p migration back (see second-libvirtd.sh).
MAIN_FROM_SECOND=$("$HERE/second-libvirtd.sh" main-uri)

# --- the guest's files --------------------------------------------------------------
echo "{\"uuid\": \"6c6d2d64-656d-4f00-8000-000000000001\", \"name\": \"$NAME\"," \
    "\"hostname\": \"$NAME\"}" >"$WORK/cd/openstack/latest/meta_data.json"
for i in $(seq 1 1800); do printf 'echo KUMO-TICK %s\nsleep 1\n' "$i"; done \
    >"$WORK/cd/openstack/latest/user_data"
genisoimage -quiet -o "$WORK/disk.config" -V config-2 -J -R "$WORK/cd"

# host_files DIR: what the compute host has before the guest lands there.
host_files() {
    local dir=$1
    cp "$GUEST_SRC/vmlinuz" "$GUEST_SRC/initramfs.img" "$WORK/disk.config" "$dir/"
    rm -f "$dir/disk"
    case $MODE in
        copy) # an empty disk of the same virtual size, filled by the NBD copy
            qemu-img create -q -f qcow2 "$dir/disk" "$(stat -c %s "$GUEST_SRC/disk.img")" ;;
        inc) # the image cache holds the base; the overlay starts empty
            mkdir -p "$dir/_base"
            cp "$GUEST_SRC/disk.img" "$dir/_base/base"
            qemu-img create -q -f qcow2 -F raw -b "$dir/_base/base" "$dir/disk" ;;
    esac
}
host_files "$DIR_A"
if [[ $MODE == copy || $MODE == shared ]]; then
    qemu-img convert -f raw -O qcow2 "$GUEST_SRC/disk.img" "$DIR_A/disk"
fi

disk_xml=""
if [[ $MODE != diskless ]]; then
    disk_xml="<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$DIR_A/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
fi
cat >"$WORK/domain.xml" <<EOF
<domain type='qemu'>
  <name>$NAME</name>
  <uuid>6c6d2d64-656d-4f00-8000-000000000001</uuid>
  <memory unit='MiB'>$MB</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$DIR_A/vmlinuz</kernel>
    <initrd>$DIR_A/initramfs.img</initrd>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    $disk_xml
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$DIR_A/disk.config'/>
      <target dev='hda' bus='ide'/>
      <readonly/>
    </disk>
    <serial type='file'>
      <source path='$DIR_A/console.log' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF

# (^: the console also shows the user_data itself, "echo KUMO-TICK n" lines)
last_tick() { grep -ao '^KUMO-TICK [0-9]*' "$1" 2>/dev/null | tail -n1 | cut -d' ' -f2; }
wait_tick() {  # wait_tick LOG N: until LOG shows a tick > N
    local deadline=$((SECONDS + 60)) n
    until n=$(last_tick "$1"); ((${n:-0} > $2)); do
        ((SECONDS < deadline)) || die "$1 shows no tick after $2"
        sleep 0.2
    done
}

virsh -c "$MAIN" define "$WORK/domain.xml" >/dev/null
t=$(now)
virsh -c "$MAIN" start "$NAME" >/dev/null
wait_tick "$DIR_A/console.log" 2
log "guest booted on the main daemon, ticking ($(since "$t")s)"

# migrate FROM_URI TO_URI(for the client or source daemon) FROM_DIR TO_DIR
migrate() {
    local from=$1 to=$2 from_dir=$3 to_dir=$4 t
    [[ $from_dir == "$to_dir" ]] || host_files "$to_dir"
    # The destination's paths: Nova's way (VIR_MIGRATE_PARAM_DEST_XML).
    virsh -c "$from" dumpxml --migratable "$NAME" | sed "s#$from_dir/#$to_dir/#g" \
        >"$WORK/dest.xml"
    t=$(now)
    virsh -c "$from" migrate "${FLAGS[@]}" --xml "$WORK/dest.xml" "$NAME" "$to"
    log "migrated in $(since "$t")s: $(virsh -c "$to" domjobinfo "$NAME" --completed \
        2>/dev/null | grep -E 'Time elapsed:|Total downtime' | tr -s ' ' | paste -sd,)"
}

# check DEST_URI SOURCE_URI DIR TICK_BEFORE: running there, gone here, still ticking
check() {
    local dest=$1 source=$2 dir=$3 before=$4 status
    [[ $(virsh -c "$dest" domstate "$NAME") == running ]] || die "not running on $dest"
    status=$(virsh -c "$dest" qemu-monitor-command "$NAME" --hmp 'info status' | tr -d '\r')
    [[ $status == *"VM status: running"* ]] || die "QEMU says: $status"
    if virsh -c "$source" list --all --name | grep -qx "$NAME"; then
        die "$NAME still on the source"
    fi
    wait_tick "$dir/console.log" $((before + 2))
    (($(grep -c 'KUMO-GUEST: init started' "$dir/console.log") <= 1)) ||
        die "the guest booted again"
    log "running on the destination, ticks $before -> $(last_tick "$dir/console.log")"
}

# main -> second (virsh or the main daemon dials the second's socket)
before=$(last_tick "$DIR_A/console.log")
migrate "$MAIN" "$SECOND" "$DIR_A" "$DIR_B"
check "$SECOND" "$MAIN" "$DIR_B" "$before"

# second -> main: with --p2p the second daemon dials, from inside its namespace
before=$(last_tick "$DIR_B/console.log")
if ((P2P)); then back=$MAIN_FROM_SECOND; else back=$MAIN; fi
migrate "$SECOND" "$back" "$DIR_B" "$DIR_A"
check "$MAIN" "$SECOND" "$DIR_A" "$before"
if [[ $MODE == copy ]]; then
    qemu-img compare -q -U "$DIR_A/disk" "$GUEST_SRC/disk.img" || die "disk content changed"
fi
log "OK ($MODE, p2p=$P2P)"

#!/usr/bin/env python3
"""Build the tiny Linux test guest from Debian packages (see DESIGN.md "The test guest").

    tools/build-test-guest.py [--output DIR] [--force]

Downloads (``apt-get download``) the versioned kernel package behind
``linux-image-cloud-amd64`` and ``busybox-static``, unpacks them with ``dpkg -x`` and
writes into DIR (default ``.kumo/guest`` under the repository root):

* ``vmlinuz``        the kernel (a Kumo ``aki`` image)
* ``initramfs.img``  gzip'd newc cpio: busybox, an init script and the kernel modules
                     the guest needs, loaded in dependency order (a Kumo ``ari`` image)
* ``disk.img``       a tiny blank raw disk, the machine image (``ami``) whose image
                     properties kernel_id/ramdisk_id point at the two above
* ``manifest.json``  what was built from what, with each file's md5 and size

The guest's init mounts the config drive (label ``config-2``), prints what it found
(personality files included, which it also writes to their paths) between
``KUMO-GUEST`` markers on the serial console, and obeys simple user_data lines:
``poweroff``, ``reboot``, ``echo TEXT``, ``sleep N``. The ACPI power button powers it
off cleanly (so libvirt's shutdown works). Re-running with the same inputs does nothing
and takes well under a second.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_META = 'linux-image-cloud-amd64'
BUSYBOX = 'busybox-static'
# Bump when the layout or the init changes, so that cached guests are rebuilt.
FORMAT = 4
DISK_BYTES = 1 << 20

# What the guest needs: virtio PCI and disks, the CD-ROM on virtio-scsi and on IDE
# (Nova's default CD bus on the pc machine type), ISO9660, and the ACPI power button
# with evdev so busybox acpid sees it. Dependencies are added from each module's
# own .modinfo and everything is loaded in dependency order.
MODULES = (
    'virtio', 'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev',
    'virtio_pci', 'virtio_blk', 'scsi_common', 'scsi_mod', 'virtio_scsi', 'cdrom',
    'sr_mod', 'libata', 'ata_piix', 'isofs', 'button', 'evdev',
)

INIT = r'''#!/bin/sh
# Kumo test guest init: report the config drive on the serial console, obey user_data.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
say() { echo "KUMO-GUEST: $*"; }
say "init started (uptime $(cut -d' ' -f1 /proc/uptime)s)"
while read -r mod; do
    insmod "/lib/modules/$mod.ko" 2>/dev/null || say "module $mod did not load"
done </etc/modules
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\necho "KUMO-GUEST: power button pressed, powering off"\nsync\npoweroff -f\n' \
    >/etc/acpi/PWRF/00000080
chmod +x /etc/acpi/PWRF/00000080
# acpid opens the event devices once: wait until devtmpfs has made them all.
tries=0
for e in /sys/class/input/event*; do
    while [ ! -c "/dev/input/${e##*/}" ] && [ $tries -lt 50 ]; do
        tries=$((tries + 1)); sleep 0.1
    done
done
# In the foreground (backgrounded by the shell): daemonised, it does not run here.
acpid -f -d -c /etc/acpi &
dev=""
tries=0
while [ -z "$dev" ] && [ $tries -lt 100 ]; do
    dev=$(findfs LABEL=config-2 2>/dev/null)
    [ -n "$dev" ] || { tries=$((tries + 1)); sleep 0.1; }
done
if [ -b /dev/vda ]; then
    say "root disk vda $(blockdev --getsize64 /dev/vda) bytes"
fi
for d in /dev/vd[b-z]; do
    [ -b "$d" ] && say "disk ${d#/dev/} $(blockdev --getsize64 "$d") bytes"
done
if [ -z "$dev" ]; then
    say "no config drive"
else
    mkdir -p /mnt/config
    mount -t iso9660 -o ro "$dev" /mnt/config
    md=/mnt/config/openstack/latest/meta_data.json
    say "config drive $dev"
    # The first "key": "value" of that key (top-level ones come first; a greedy sed
    # on the one-line JSON would find the last, e.g. a key pair's "name").
    field() { grep -o "\"$1\": *\"[^\"]*\"" "$md" | head -n1 |
        sed "s/^\"$1\": *\"\([^\"]*\)\"$/\1/"; }
    host=$(field hostname)
    [ -n "$host" ] && hostname "$host"
    echo "KUMO-GUEST-BEGIN"
    echo "uuid=$(field uuid)"
    echo "name=$(field name)"
    echo "hostname=$host"
    echo "availability_zone=$(field availability_zone)"
    keys=$(grep -o '"public_keys": *{[^}]*}' "$md" | grep -o '"[^"]*": *"' |
        sed -n 's/^"\([^"]*\)".*/\1/p' | grep -v '^public_keys$')
    for k in $keys; do echo "key=$k"; done
    if [ -f /mnt/config/openstack/latest/user_data ]; then
        echo "user_data-begin"
        cat /mnt/config/openstack/latest/user_data
        echo
        echo "user_data-end"
    fi
    # Personality files (meta_data.json "files": path and content_path): put where
    # they belong, as cloud-init does, and shown.
    grep -o '"path": *"[^"]*", *"content_path": *"[^"]*"' "$md" |
    while read -r entry; do
        path=$(echo "$entry" | sed -n 's/^"path": *"\([^"]*\)".*/\1/p')
        src=/mnt/config/openstack$(echo "$entry" | sed -n 's/.*"content_path": *"\([^"]*\)".*/\1/p')
        mkdir -p "$(dirname "$path")" && cp "$src" "$path"
        echo "file=$path"
        cat "$path"
        echo
        echo "file-end"
    done
    echo "KUMO-GUEST-END"
    if [ -f /mnt/config/openstack/latest/user_data ]; then
        cp /mnt/config/openstack/latest/user_data /tmp/user_data
    fi
fi
say "ready (uptime $(cut -d' ' -f1 /proc/uptime)s)"
if [ -f /tmp/user_data ]; then
    while read -r cmd arg; do
        case "$cmd" in
            poweroff) say "user_data: poweroff"; sync; poweroff -f ;;
            reboot) say "user_data: reboot"; sync; reboot -f ;;
            echo) echo "$arg" ;;
            sleep) sleep "$arg" ;;
        esac
    done </tmp/user_data
fi
while true; do sleep 3600; done
'''


def log(message: str) -> None:
    print(f'build-test-guest: {message}', flush=True)


def run(argv: list[str], cwd: str | None = None) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True).stdout


def kernel_package() -> str:
    """The versioned package the metapackage depends on (linux-image-6.1.0-NN-...)."""
    for line in run(['apt-cache', 'depends', KERNEL_META]).splitlines():
        line = line.strip()
        if line.startswith('Depends:') and 'linux-image-' in line:
            return line.split(':', 1)[1].strip()
    raise SystemExit(f'apt-cache depends {KERNEL_META} names no kernel package '
                     '(run apt-get update?)')


def candidate_version(package: str) -> str:
    for line in run(['apt-cache', 'policy', package]).splitlines():
        line = line.strip()
        if line.startswith('Candidate:'):
            return line.split(':', 1)[1].strip()
    raise SystemExit(f'apt-cache policy {package} shows no candidate version')


def md5sum(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


# --- kernel modules ---------------------------------------------------------------------

def modinfo_depends(path: str) -> list[str]:
    """The `depends=` entry of a kernel module's .modinfo ELF section (no modinfo tool
    needed: the section is NUL-separated key=value strings)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        raise ValueError(f'{path} is not a 64-bit ELF file')
    e_shoff, = struct.unpack_from('<Q', data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from('<HHH', data, 0x3A)

    def section(index: int) -> tuple[int, int, int]:
        base = e_shoff + index * e_shentsize
        name, = struct.unpack_from('<I', data, base)
        offset, size = struct.unpack_from('<QQ', data, base + 0x18)
        return name, offset, size

    _, str_off, _ = section(e_shstrndx)
    for index in range(e_shnum):
        name_off, offset, size = section(index)
        end = data.index(b'\0', str_off + name_off)
        if data[str_off + name_off:end] == b'.modinfo':
            for entry in data[offset:offset + size].split(b'\0'):
                if entry.startswith(b'depends='):
                    value = entry[len(b'depends='):].decode()
                    return [d for d in value.split(',') if d]
            return []
    return []


def module_order(module_root: str, wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    """[(name, path)] of the wanted modules and their dependencies, dependencies first."""
    paths: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(module_root):
        for name in files:
            if name.endswith('.ko'):
                paths[name[:-3].replace('-', '_')] = os.path.join(dirpath, name)
    ordered: list[tuple[str, str]] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        key = name.replace('-', '_')
        if key in seen:
            return
        if key in chain:
            raise SystemExit(f'module dependency cycle: {" -> ".join(chain + (key,))}')
        if key not in paths:
            # Built into this kernel (modules.builtin): nothing to load.
            return
        for dep in modinfo_depends(paths[key]):
            visit(dep, chain + (key,))
        seen.add(key)
        ordered.append((key, paths[key]))

    for name in wanted:
        visit(name, ())
    return ordered


# --- the initramfs ----------------------------------------------------------------------

class Cpio:
    """A newc cpio archive written in Python (no cpio tool, no root for /dev nodes)."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b'', rdev: tuple = (0, 0)) -> None:
        encoded = name.encode() + b'\0'
        header = '070701' + ''.join(f'{v:08x}' for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(encoded), 0))
        self.ino += 1
        self.out.write(header.encode() + encoded)
        self.out.write(b'\0' * (-(110 + len(encoded)) % 4))
        self.out.write(data)
        self.out.write(b'\0' * (-len(data) % 4))

    def dir(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry('TRAILER!!!', 0)
        return self.out.getvalue()


def build_initramfs(busybox: str, modules: list[tuple[str, str]]) -> bytes:
    archive = Cpio()
    for d in ('bin', 'dev', 'etc', 'lib', 'lib/modules', 'mnt', 'proc', 'sys', 'tmp'):
        archive.dir(d)
    # The kernel opens /dev/console before init runs; devtmpfs is mounted by init.
    archive.chardev('dev/console', 5, 1)
    with open(busybox, 'rb') as f:
        archive.file('bin/busybox', f.read(), 0o755)
    for applet in sorted(set(run([busybox, '--list']).split())):
        if applet != 'busybox':
            archive.symlink(f'bin/{applet}', 'busybox')
    archive.symlink('sbin', 'bin')
    for name, path in modules:
        with open(path, 'rb') as f:
            archive.file(f'lib/modules/{name}.ko', f.read())
    archive.file('etc/modules', ''.join(f'{n}\n' for n, _ in modules).encode())
    archive.file('init', INIT.encode(), 0o755)
    # mtime=0: the same inputs give the same bytes, so checksums are stable.
    return gzip.compress(archive.finish(), compresslevel=6, mtime=0)


# --- main ---------------------------------------------------------------------------------

def inputs() -> dict:
    kernel = kernel_package()
    return {'format': FORMAT, 'kernel_package': kernel,
            'kernel_version': candidate_version(kernel),
            'busybox_version': candidate_version(BUSYBOX),
            'init_md5': hashlib.md5(INIT.encode(), usedforsecurity=False).hexdigest(),
            'modules': list(MODULES)}


def up_to_date(output: str, wanted: dict) -> bool:
    try:
        with open(os.path.join(output, 'manifest.json')) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    if manifest.get('inputs') != wanted:
        return False
    for entry in manifest.get('files', {}).values():
        path = os.path.join(output, entry['file'])
        if not os.path.isfile(path) or os.path.getsize(path) != entry['size']:
            return False
    return True


def build(output: str, wanted: dict) -> None:
    with tempfile.TemporaryDirectory(prefix='kumo-guest-') as work:
        log(f'downloading {wanted["kernel_package"]} and {BUSYBOX}')
        # As root, apt would hand the download to user _apt, who cannot write here.
        run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root',
             wanted['kernel_package'], BUSYBOX], cwd=work)
        debs = [n for n in os.listdir(work) if n.endswith('.deb')]
        root = os.path.join(work, 'root')
        for deb in debs:
            run(['dpkg', '-x', os.path.join(work, deb), root])
        release = wanted['kernel_package'][len('linux-image-'):]
        kernel = os.path.join(root, 'boot', f'vmlinuz-{release}')
        busybox = os.path.join(root, 'bin', 'busybox')
        modules = module_order(os.path.join(root, 'lib', 'modules', release), MODULES)
        log(f'kernel {release}; modules: {" ".join(n for n, _ in modules)}')
        initramfs = build_initramfs(busybox, modules)

        os.makedirs(output, exist_ok=True)
        staged = {'kernel': 'vmlinuz', 'ramdisk': 'initramfs.img', 'disk': 'disk.img'}
        shutil.copyfile(kernel, os.path.join(output, 'vmlinuz.tmp'))
        with open(os.path.join(output, 'initramfs.img.tmp'), 'wb') as f:
            f.write(initramfs)
        with open(os.path.join(output, 'disk.img.tmp'), 'wb') as f:
            f.truncate(DISK_BYTES)
        files = {}
        for role, name in staged.items():
            tmp = os.path.join(output, name + '.tmp')
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(output, name))
            path = os.path.join(output, name)
            files[role] = {'file': name, 'md5': md5sum(path), 'size': os.path.getsize(path)}
        manifest = {'inputs': wanted, 'kernel_release': release, 'files': files,
                    'modules': [n for n, _ in modules]}
        with open(os.path.join(output, 'manifest.json.tmp'), 'w') as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
        os.replace(os.path.join(output, 'manifest.json.tmp'),
                   os.path.join(output, 'manifest.json'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--output', default=os.path.join(REPO, '.kumo', 'guest'),
                        help='directory to write the guest into (default: %(default)s)')
    parser.add_argument('--force', action='store_true', help='rebuild even if up to date')
    args = parser.parse_args(argv)
    output = os.path.abspath(args.output)
    wanted = inputs()
    if not args.force and up_to_date(output, wanted):
        log(f'up to date in {output}')
        return 0
    build(output, wanted)
    log(f'built in {output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

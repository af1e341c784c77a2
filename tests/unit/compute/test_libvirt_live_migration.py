"""The libvirt driver's destination XML for a live migration (what the source sends
as VIR_MIGRATE_PARAM_DEST_XML): the running guest's own definition with the
destination's paths, ports and metadata, and which disks are copied."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import testtools

from kumo_compute.virt.libvirt import live_migration
from kumo_compute.virt.libvirt.config import KUMO_NS

_META = (f'<metadata><kumo:instance xmlns:kumo="{KUMO_NS}"><kumo:host>{{host}}</kumo:host>'
         '</kumo:instance></metadata>')


def _domain(host: str, root: str, port: int, extra_disks: str = '',
            serial_type: str = 'tcp') -> str:
    return f"""<domain type='qemu'><name>instance-00000001</name>
  <uuid>0b9f8f4e-1111-4a6b-9c3e-000000000001</uuid>{_META.format(host=host)}
  <memory unit='KiB'>131072</memory>
  <os><type arch='x86_64'>hvm</type><kernel>{root}/kernel</kernel>
      <initrd>{root}/ramdisk</initrd></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='{root}/disk'/>
      <backingStore type='file'><source file='{root}/../_base/abc'/></backingStore>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='{root}/disk.config'/>
      <target dev='hdd' bus='ide'/><readonly/></disk>
    {extra_disks}
    <serial type='{serial_type}'><source mode='bind' host='127.0.0.1' service='{port}'/>
      <log file='{root}/console.log' append='off'/><target port='0'/></serial>
    <console type='{serial_type}'><source mode='bind' host='127.0.0.1' service='{port}'/>
      <target type='serial' port='0'/></console>
    <graphics type='vnc' port='-1' listen='{'10.0.0.1' if host == 'compute1' else '10.0.0.2'}'>
      <listen type='address' address='{'10.0.0.1' if host == 'compute1' else '10.0.0.2'}'/>
    </graphics>
  </devices></domain>"""


SOURCE = _domain('compute1', '/a/instances/x', 10001)
DEST = _domain('compute2', '/b/instances/x', 10050)


class TestDestinationXML(testtools.TestCase):

    def test_the_destinations_places_the_guests_devices(self):
        root = ET.fromstring(live_migration.destination_xml(SOURCE, DEST))
        disks = {d.find('target').get('dev'): d for d in root.findall('./devices/disk')}
        self.assertEqual('/b/instances/x/disk', disks['vda'].find('source').get('file'))
        # The source's backing chain is not the destination's to follow.
        self.assertIsNone(disks['vda'].find('backingStore'))
        self.assertEqual('/b/instances/x/disk.config',
                         disks['hdd'].find('source').get('file'))
        self.assertEqual(('/b/instances/x/kernel', '/b/instances/x/ramdisk'),
                         (root.findtext('os/kernel'), root.findtext('os/initrd')))
        serial = root.find('./devices/serial')
        self.assertEqual('10050', serial.find('source').get('service'))
        self.assertEqual('/b/instances/x/console.log', serial.find('log').get('file'))
        self.assertEqual('10050', root.find('./devices/console/source').get('service'))
        graphics = root.find('./devices/graphics')
        self.assertEqual(('10.0.0.2', '10.0.0.2'),
                         (graphics.get('listen'), graphics.find('listen').get('address')))
        self.assertEqual('compute2', root.findtext(f'metadata/{{{KUMO_NS}}}instance/'
                                                   f'{{{KUMO_NS}}}host'))
        # The guest's own: its name (the destination's is the migration's DEST_NAME),
        # uuid and memory.
        self.assertEqual(('instance-00000001', '131072'),
                         (root.findtext('name'), root.findtext('memory')))

    def test_what_the_destination_did_not_prepare_is_refused(self):
        extra = ("<disk type='file' device='disk'><source file='/a/instances/x/disk.eph0'/>"
                 "<target dev='vdb' bus='virtio'/></disk>")
        error = self.assertRaises(live_migration.LiveMigrationError,
                                  live_migration.destination_xml,
                                  _domain('compute1', '/a/instances/x', 10001, extra), DEST)
        self.assertEqual('The destination prepared no disk vdb', str(error))
        error = self.assertRaises(live_migration.LiveMigrationError,
                                  live_migration.destination_xml, SOURCE,
                                  _domain('compute2', '/b', 10050, serial_type='pty'))
        self.assertIn('prepared no serial like the guest', str(error))
        no_meta = DEST.replace(_META.format(host='compute2'), '')
        self.assertRaises(live_migration.LiveMigrationError,
                          live_migration.destination_xml, SOURCE, no_meta)

    def test_only_the_writable_disks_are_copied(self):
        extra = ("<disk type='file' device='disk'><source file='/a/instances/x/disk.swap'/>"
                 "<target dev='vdc' bus='virtio'/></disk>")
        self.assertEqual(['vda', 'vdc'], live_migration.copied_disks(
            _domain('compute1', '/a/instances/x', 10001, extra)))

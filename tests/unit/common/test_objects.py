"""The typed RPC payloads: pinned fields and versions, and their wire form."""
from __future__ import annotations

import dataclasses
import inspect
import json

import testtools

from kumo_common import context, objects, rpc

# The wire contract. If this test fails you changed a payload: bump its VERSION (minor
# for an added field with a default, major for anything a peer on the old version
# cannot read), say why in the rpcapi version history, then update the pin here.
PINNED = {
    'FlavorSpec': ('1.0', (
        'flavorid: str', 'name: str', 'vcpus: int', 'memory_mb: int', 'root_gb: int',
        'ephemeral_gb: int', 'swap: int', 'extra_specs: dict')),
    'ImageSpec': ('1.1', (
        'id: str', 'name: str', 'checksum: str | None', 'size: int',
        'disk_format: str | None', 'container_format: str | None', 'min_ram: int',
        'min_disk: int', 'properties: dict', 'location: str | None')),
    'NetworkRequest': ('1.0', (
        'network_id: str', 'port_id: str | None', 'fixed_ip: str | None',
        'tag: str | None')),
    'RequestSpec': ('1.2', (
        'instance_uuids: list[str]', 'project_id: str', 'user_id: str',
        'flavor: FlavorSpec', 'image: ImageSpec | None', 'availability_zone: str | None',
        'scheduler_hints: dict', 'requested_networks: list[str]',
        'network_requests: list[NetworkRequest]', 'ignore_hosts: list[str]',
        'force_hosts: list[str]', 'force_nodes: list[str]',
        'requested_destination: dict | None')),
    'DryRunResult': ('1.0', ('selected_hosts: list[dict]', 'reports: list[dict]')),
    'Selection': ('1.0', (
        'instance_uuid: str', 'service_host: str', 'nodename: str',
        'compute_node_uuid: str', 'cell_name: str | None', 'alternate_hosts: list[str]')),
    'PortSpec': ('1.0', (
        'id: str', 'network_id: str', 'network_name: str', 'mac_address: str',
        'fixed_ips: list[dict]')),
    'BlockDeviceSpec': ('1.0', (
        'source_type: str', 'destination_type: str', 'device_name: str | None',
        'boot_index: int | None', 'volume_size: int | None', 'guest_format: str | None',
        'device_type: str | None', 'disk_bus: str | None')),
    'InstanceBuild': ('1.4', (
        'uuid: str', 'name: str', 'hostname: str', 'project_id: str', 'user_id: str',
        'flavor: FlavorSpec', 'image: ImageSpec | None', 'node_uuid: str',
        'metadata: dict', 'user_data: str | None', 'key_data: str | None',
        'config_drive: bool', 'admin_password: str | None', 'ports: list[PortSpec]',
        'availability_zone: str | None', 'attempt: int', 'instance_name: str',
        'key_name: str | None', 'kernel: ImageSpec | None', 'ramdisk: ImageSpec | None',
        'files: list[dict]', 'deadline: str | None',
        'block_devices: list[BlockDeviceSpec]')),
    'GuestCheck': ('1.0', (
        'host: str', 'instance_uuid: str', 'exists: bool', 'power_state: int',
        'busy: str | None', 'build: dict | None', 'actions: dict', 'fenced: bool')),
    'PowerStateReport': ('1.0', ('host: str', 'power_states: dict', 'complete: bool',
                                 'unsettled: list[str]')),
    'PowerSyncResult': ('1.1', ('pending: list[str]', 'strays: list[str]',
                                'unknown: list[str]', 'elsewhere: list[str]')),
    'ActionParams': ('1.1', (
        'admin_password: str | None', 'snapshot_id: str | None',
        'snapshot_path: str | None', 'build: InstanceBuild | None',
        'preserve_ephemeral: bool', 'start: bool', 'flavor: FlavorSpec | None',
        'offload: bool')),
    'ActionResult': ('1.1', (
        'image_id: str | None', 'size: int', 'checksum: str | None',
        'os_hash_value: str | None', 'virtual_size: int | None',
        'disk_format: str | None', 'offloaded: bool')),
    'MigrationStep': ('1.2', (
        'migration_uuid: str', 'instance_uuid: str', 'step: str', 'step_id: str',
        'source_host: str', 'dest_host: str', 'source_path: str | None',
        'build: InstanceBuild | None', 'start: bool', 'old_flavor: FlavorSpec | None',
        'new_flavor: FlavorSpec | None', 'block_migration: bool | None')),
    'MigrationStepResult': ('1.1', (
        'migration_uuid: str', 'instance_uuid: str', 'step: str', 'step_id: str',
        'host: str', 'success: bool', 'power_state: int', 'error: str | None',
        'source_path: str | None', 'aborted: bool')),
    'LiveMigrationProgress': ('1.0', (
        'memory_total: int | None', 'memory_processed: int | None',
        'memory_remaining: int | None', 'disk_total: int | None',
        'disk_processed: int | None', 'disk_remaining: int | None')),
    'BuildResult': ('1.1', (
        'instance_uuid: str', 'host: str', 'success: bool', 'power_state: int',
        'error: str | None', 'reschedulable: bool', 'traceback: str | None')),
    'NodeReport': ('1.0', (
        'host: str', 'node_uuid: str', 'hypervisor_hostname: str',
        'hypervisor_type: str', 'hypervisor_version: int', 'host_ip: str',
        'cell_name: str', 'vcpus: int', 'memory_mb: int', 'local_gb: int',
        'cpu_info: str', 'running_instances: list[str]', 'cpu_allocation_ratio: float',
        'ram_allocation_ratio: float', 'disk_allocation_ratio: float',
        'reserved_host_cpus: int', 'reserved_host_memory_mb: int',
        'reserved_host_disk_mb: int')),
    'CpuDiagnostics': ('1.0', ('id: int', 'time: int | None', 'utilisation: int | None')),
    'DiskDiagnostics': ('1.0', (
        'device: str', 'read_bytes: int | None', 'read_requests: int | None',
        'write_bytes: int | None', 'write_requests: int | None',
        'errors_count: int | None')),
    'NicDiagnostics': ('1.0', (
        'mac_address: str | None', 'device: str | None', 'rx_octets: int | None',
        'rx_errors: int | None', 'rx_drop: int | None', 'rx_packets: int | None',
        'rx_rate: int | None', 'tx_octets: int | None', 'tx_errors: int | None',
        'tx_drop: int | None', 'tx_packets: int | None', 'tx_rate: int | None')),
    'InstanceDiagnostics': ('1.0', (
        'power_state: int', 'driver: str', 'hypervisor: str | None',
        'hypervisor_os: str | None', 'uptime: int | None', 'config_drive: bool',
        'memory_kib: int | None', 'memory_used_kib: int | None', 'memory_stats: dict',
        'cpus: list[CpuDiagnostics]', 'disks: list[DiskDiagnostics]',
        'nics: list[NicDiagnostics]')),
}


def _fingerprint(cls) -> tuple:
    return (cls.VERSION, tuple(f'{f.name}: {f.type}' for f in dataclasses.fields(cls)))


def _flavor() -> objects.FlavorSpec:
    return objects.FlavorSpec(flavorid='1', name='m1.tiny', vcpus=1, memory_mb=512,
                              root_gb=1, ephemeral_gb=2, swap=512,
                              extra_specs={'hw:cpu_policy': 'shared'})


def _image() -> objects.ImageSpec:
    return objects.ImageSpec(id='155d900f-4e14-4e4c-a73d-069cbf4541e6', name='cirros',
                             checksum='abc', size=42, disk_format='qcow2',
                             container_format='bare', min_ram=64, min_disk=1,
                             properties={'architecture': 'x86_64'},
                             location='/var/lib/kumo/images/cirros.qcow2')


def _request_spec() -> objects.RequestSpec:
    return objects.RequestSpec(
        instance_uuids=['u1', 'u2'], project_id='p', user_id='u', flavor=_flavor(),
        image=_image(), availability_zone='nova',
        scheduler_hints={'same_host': ['u0']}, requested_networks=['net-1', 'net-2'],
        network_requests=[objects.NetworkRequest(network_id='net-1', fixed_ip='10.0.0.9'),
                          objects.NetworkRequest(network_id='net-2', port_id='port-1',
                                                 tag='nic2')],
        ignore_hosts=['compute9'], force_hosts=['compute1'], force_nodes=['compute1'],
        requested_destination={'host': 'compute1', 'node': None})


def _instance_build() -> objects.InstanceBuild:
    ports = [objects.PortSpec(id=f'port-{n}', network_id='net-1', network_name='private',
                              mac_address=f'fa:16:3e:00:00:0{n}',
                              fixed_ips=[{'ip_address': f'10.0.0.{n}', 'version': 4}])
             for n in (2, 3)]
    return objects.InstanceBuild(
        uuid='u1', name='vm', hostname='vm', project_id='p', user_id='u',
        flavor=_flavor(), image=_image(), node_uuid='n1', metadata={'k': 'v'},
        user_data='aGk=', key_data='ssh-ed25519 AAAA', config_drive=True,
        admin_password='secret', ports=ports, availability_zone='nova', attempt=2,
        instance_name='instance-0000002a', key_name='mykey',
        kernel=objects.ImageSpec(id='k1', disk_format='aki', location='/images/k'),
        ramdisk=objects.ImageSpec(id='r1', disk_format='ari', location='/images/r'),
        files=[{'path': '/etc/motd', 'contents': 'aGk='}],
        deadline='2026-11-29T12:00:00.000001',
        block_devices=[
            objects.BlockDeviceSpec(source_type='image', boot_index=0, device_type='disk'),
            objects.BlockDeviceSpec(source_type='blank', device_name='/dev/vdc',
                                    boot_index=-1, volume_size=1, guest_format='ext3',
                                    device_type='disk', disk_bus='virtio')])


def _samples() -> list[objects.Payload]:
    """One filled-in instance of every payload type."""
    return [
        _flavor(), _image(), _request_spec(), _instance_build(),
        objects.BlockDeviceSpec(source_type='blank', guest_format='swap', volume_size=64),
        objects.PortSpec(id='p', network_id='n', network_name='private',
                         mac_address='fa:16:3e:00:00:01'),
        objects.NetworkRequest(network_id='n', port_id='p', fixed_ip='fd00::5', tag='t'),
        objects.Selection(instance_uuid='u1', service_host='compute1',
                          nodename='compute1', compute_node_uuid='n1', cell_name='cell1',
                          alternate_hosts=['compute2']),
        objects.BuildResult(instance_uuid='u1', host='compute1', success=False,
                            power_state=0, error='boom', reschedulable=False,
                            traceback='Traceback (most recent call last):\n'),
        objects.DryRunResult(selected_hosts=[{'host': 'compute1'}],
                             reports=[{'filters': [{'name': 'RamFilter'}]}]),
        objects.PowerStateReport(host='compute1', power_states={'u1': 1, 'u2': 4},
                                 complete=True, unsettled=['u3']),
        objects.PowerSyncResult(pending=['u1'], strays=['u8', 'u9'], unknown=['u9']),
        objects.ActionParams(admin_password='s3cret', snapshot_id='i1',
                             snapshot_path='/images/i1', build=_instance_build(),
                             preserve_ephemeral=True, start=False, flavor=_flavor()),
        objects.ActionResult(image_id='i1', size=3, checksum='abc', os_hash_value='def',
                             virtual_size=1024, disk_format='qcow2'),
        objects.GuestCheck(host='compute1', instance_uuid='u1', exists=True, power_state=1,
                           busy='stop', build={'attempt': 1, 'success': True,
                                               'error': None, 'power_state': 1},
                           actions={'req-1': {'action': 'stop', 'success': True,
                                              'error': None, 'power_state': 4}},
                           fenced=False),
        objects.NodeReport(host='compute1', node_uuid='n1', hypervisor_hostname='compute1',
                           hypervisor_type='fake', hypervisor_version=1000,
                           host_ip='127.0.1.1', cell_name='cell1', vcpus=16,
                           memory_mb=32768, local_gb=1024, running_instances=['u1'],
                           cpu_allocation_ratio=2.0, reserved_host_memory_mb=512),
        objects.MigrationStep(migration_uuid='m1', instance_uuid='u1',
                              step='finish_resize', step_id='req-1/finish_resize/0',
                              source_host='compute1', dest_host='compute2',
                              source_path='/x/u1_resize', build=_instance_build(), start=False,
                              old_flavor=_flavor(), new_flavor=_flavor()),
        objects.MigrationStepResult(migration_uuid='m1', instance_uuid='u1',
                                    step='resize_instance', step_id='req-1/resize/0',
                                    host='compute1', success=True, power_state=4,
                                    source_path='/x/u1_resize'),
        objects.LiveMigrationProgress(memory_total=536870912, memory_processed=1048576,
                                      memory_remaining=535822336, disk_total=1073741824),
        objects.InstanceDiagnostics(
            power_state=1, driver='libvirt', hypervisor='qemu', hypervisor_os='linux',
            uptime=12, config_drive=True, memory_kib=131072, memory_used_kib=131072,
            memory_stats={'actual': 131072, 'rss': 90000},
            cpus=[objects.CpuDiagnostics(id=0, time=17300000000)],
            disks=[objects.DiskDiagnostics(device='vda', read_bytes=262144,
                                           read_requests=112, write_bytes=0,
                                           write_requests=0, errors_count=-1)],
            nics=[objects.NicDiagnostics(mac_address='fa:16:3e:00:00:01', device='vnet0',
                                         rx_octets=2070, rx_packets=26, tx_octets=140),
                  objects.NicDiagnostics(mac_address='fa:16:3e:00:00:02')]),
        objects.CpuDiagnostics(id=1, time=None, utilisation=15),
        objects.DiskDiagnostics(device='hdd', read_bytes=1),
        objects.NicDiagnostics(mac_address='fa:16:3e:00:00:03', device='tap1234'),
    ]


class TestPinnedPayloads(testtools.TestCase):

    def test_fields_and_versions_are_pinned(self):
        actual = {name: _fingerprint(cls) for name, cls in objects.REGISTRY.items()}
        for name in sorted(set(actual) | set(PINNED)):
            self.assertEqual(
                PINNED.get(name), actual.get(name),
                f'Payload {name} changed on the wire: bump its VERSION and update the '
                f'pin in this test')

    def test_every_payload_class_is_registered(self):
        defined = {name for name, cls in inspect.getmembers(objects, inspect.isclass)
                   if issubclass(cls, objects.Payload) and cls is not objects.Payload}
        self.assertEqual(defined, set(objects.REGISTRY))
        for name, cls in objects.REGISTRY.items():
            self.assertEqual(name, cls.__name__)

    def test_samples_cover_every_type(self):
        self.assertEqual(set(objects.REGISTRY), {type(p).__name__ for p in _samples()})


class TestWireForm(testtools.TestCase):

    def test_envelope(self):
        primitive = _flavor().to_primitive()
        self.assertEqual({'kumo_object.name', 'kumo_object.version', 'kumo_object.data'},
                         set(primitive))
        self.assertEqual('FlavorSpec', primitive['kumo_object.name'])
        self.assertEqual('1.0', primitive['kumo_object.version'])
        self.assertEqual(512, primitive['kumo_object.data']['memory_mb'])
        self.assertTrue(objects.is_payload_primitive(primitive))
        self.assertFalse(objects.is_payload_primitive({'memory_mb': 512}))

    def test_nested_payloads_are_primitives(self):
        primitive = _instance_build().to_primitive()
        data = primitive['kumo_object.data']
        self.assertEqual('FlavorSpec', data['flavor']['kumo_object.name'])
        self.assertEqual('ImageSpec', data['image']['kumo_object.name'])
        self.assertEqual(['PortSpec', 'PortSpec'],
                         [p['kumo_object.name'] for p in data['ports']])

    def test_round_trip_every_type_through_json(self):
        for payload in _samples():
            wire = json.loads(json.dumps(payload.to_primitive()))
            back = objects.Payload.from_primitive(wire)
            self.assertIs(type(payload), type(back))
            self.assertEqual(payload, back)

    def test_round_trip_keeps_nested_types(self):
        back = objects.Payload.from_primitive(_instance_build().to_primitive())
        self.assertIsInstance(back.flavor, objects.FlavorSpec)
        self.assertIsInstance(back.image, objects.ImageSpec)
        self.assertIsInstance(back.kernel, objects.ImageSpec)
        self.assertEqual('/images/r', back.ramdisk.location)
        self.assertIsInstance(back.ports[0], objects.PortSpec)
        self.assertEqual('10.0.0.3', back.ports[1].fixed_ips[0]['ip_address'])
        # 1 GB root + 2 GB ephemeral + 512 MB swap rounded up to 1 GB.
        self.assertEqual(4, back.flavor.disk_gb)

    def test_optional_nested_payload_absent(self):
        spec = objects.RequestSpec(instance_uuids=[], project_id='p', user_id='u',
                                   flavor=_flavor(), image=None)
        self.assertEqual(spec, objects.Payload.from_primitive(spec.to_primitive()))

    def test_unknown_fields_of_newer_minor_version_are_dropped(self):
        primitive = _request_spec().to_primitive()
        primitive['kumo_object.version'] = '1.7'
        primitive['kumo_object.data']['added_in_1_7'] = {'anything': True}
        flavor = primitive['kumo_object.data']['flavor']
        flavor['kumo_object.version'] = '1.3'
        flavor['kumo_object.data']['added_in_1_3'] = 5
        back = objects.Payload.from_primitive(primitive)
        self.assertEqual(_request_spec(), back)
        self.assertFalse(hasattr(back, 'added_in_1_7'))

    def test_fields_missing_from_sender_take_their_defaults(self):
        primitive = objects.BuildResult(instance_uuid='u', host='h',
                                        success=True).to_primitive()
        for key in ('power_state', 'error', 'reschedulable', 'traceback'):
            del primitive['kumo_object.data'][key]
        back = objects.Payload.from_primitive(primitive)
        self.assertEqual(objects.BuildResult(instance_uuid='u', host='h', success=True),
                         back)

    def test_major_version_mismatch_raises(self):
        for version in ('2.0', '0.9'):
            primitive = _flavor().to_primitive()
            primitive['kumo_object.version'] = version
            exc = self.assertRaises(ValueError, objects.Payload.from_primitive, primitive)
            self.assertIn(f'FlavorSpec version {version} is not compatible with 1.0',
                          str(exc))

    def test_major_mismatch_of_nested_payload_raises(self):
        primitive = _request_spec().to_primitive()
        primitive['kumo_object.data']['flavor']['kumo_object.version'] = '2.0'
        self.assertRaises(ValueError, objects.Payload.from_primitive, primitive)

    def test_unknown_type_raises(self):
        primitive = _flavor().to_primitive()
        primitive['kumo_object.name'] = 'NoSuchPayload'
        exc = self.assertRaises(ValueError, objects.Payload.from_primitive, primitive)
        self.assertIn('NoSuchPayload', str(exc))


class TestSerializer(testtools.TestCase):
    """rpc.PayloadSerializer: what oslo.messaging calls on every message."""

    def test_payloads_anywhere_in_arguments(self):
        serializer = rpc.PayloadSerializer()
        ctxt = context.RequestContext(user_id='u', project_id='p')
        value = {'spec': _request_spec(), 'many': [_flavor(), _image()],
                 'plain': {'n': 1, 'l': ['a']}, 'none': None}
        wire = json.loads(json.dumps(serializer.serialize_entity(ctxt, value)))
        self.assertEqual('RequestSpec', wire['spec']['kumo_object.name'])
        self.assertEqual(value, serializer.deserialize_entity(ctxt, wire))

    def test_context_round_trip(self):
        serializer = rpc.PayloadSerializer()
        ctxt = context.RequestContext(user_id='u', project_id='p', roles=['member'],
                                      read_deleted='yes', overwrite=False)
        back = serializer.deserialize_context(
            json.loads(json.dumps(serializer.serialize_context(ctxt))))
        self.assertEqual((ctxt.user_id, ctxt.project_id, ctxt.request_id, 'yes'),
                         (back.user_id, back.project_id, back.request_id,
                          back.read_deleted))
        self.assertEqual(['member'], back.roles)

"""POST /servers beyond the basics: block device mappings (v2 and legacy), personality
and its quotas, security groups, OS-DCF:diskConfig from the image, and the
microversion hint on properties another microversion accepts."""
from __future__ import annotations

import contextlib
import io

import fixtures
import sqlalchemy as sa
from oslo_policy import policy as oslo_policy

from kumo_api import policy
from kumo_common.cmd import manage
from kumo_common.db import models, session
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
CONTENTS = 'ICAgICAgDQoiQSBjbG91ZCBkb2VzIG5vdCBrbm93IHdoeSBp dCBtb3ZlcyBpbiBqdXN0IHN1Y2g='
# A flavor with an ephemeral disk and swap (GB and MB), created in setUpClass.
EPHEMERAL_FLAVOR = '42'


def _image_bdm(image=cloud.IMAGE_ID, **extra) -> dict:
    return {'uuid': image, 'source_type': 'image', 'destination_type': 'local',
            'boot_index': 0, 'delete_on_termination': True, **extra}


class CreateTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with contextlib.redirect_stdout(io.StringIO()):
            manage._flavor_create('m1.ephemeral', EPHEMERAL_FLAVOR, 512, 1, 1, ephemeral=2,
                                  swap=512)
            manage._image_import('auto', 'a0a0a0a0-0000-4000-8000-000000000001',
                                 properties={'auto_disk_config': 'True'})
            manage._image_import('no-auto', 'a0a0a0a0-0000-4000-8000-000000000002',
                                 properties={'auto_disk_config': 'Disabled'})

    def setUp(self):
        super().setUp()
        self.token = self.new_token()

    def post(self, server: dict, version='2.42', status=202, token=None, hints=None):
        body = {'name': 'vm', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID, **server}
        if int(version.split('.')[1]) >= 37:
            body.setdefault('networks', 'auto')
        request = {'server': {k: v for k, v in body.items() if v is not None}}
        if hints:
            request['os:scheduler_hints'] = hints
        resp = self.cloud.request('POST', '/v2.1/servers', token=token or self.token,
                                  version=version, json=request)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    @staticmethod
    def fault(body) -> str:
        return next(iter(body.values()))['message']

    @staticmethod
    def bdm_rows(server_id: str) -> list[dict]:
        with session.reader() as s:
            rows = s.scalars(sa.select(models.BlockDeviceMapping).where(
                models.BlockDeviceMapping.instance_uuid == server_id)
                .order_by(models.BlockDeviceMapping.id))
            return [{'source': r.source_type, 'destination': r.destination_type,
                     'boot_index': r.boot_index, 'size': r.volume_size,
                     'guest_format': r.guest_format, 'image': r.image_id, 'tag': r.tag}
                    for r in rows]


class TestBlockDeviceMappings(CreateTestCase):

    def test_plain_boot_records_the_image_disk_and_flavor_disks(self):
        server = self.post({})['server']
        self.assertEqual([{'source': 'image', 'destination': 'local', 'boot_index': 0,
                           'size': None, 'guest_format': None, 'image': cloud.IMAGE_ID,
                           'tag': None}], self.bdm_rows(server['id']))
        server = self.post({'flavorRef': EPHEMERAL_FLAVOR})['server']
        self.assertEqual(
            [('image', 0, None, None), ('blank', -1, 2, None), ('blank', -1, 512, 'swap')],
            [(r['source'], r['boot_index'], r['size'], r['guest_format'])
             for r in self.bdm_rows(server['id'])])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')

    def test_image_and_blank_local_disks(self):
        bdms = [_image_bdm(tag='root'),
                {'source_type': 'blank', 'destination_type': 'local', 'boot_index': '-1',
                 'volume_size': '1', 'guest_format': 'ext4', 'tag': 'scratch'},
                {'source_type': 'blank', 'destination_type': 'local', 'boot_index': None,
                 'guest_format': 'swap', 'volume_size': 256}]
        server = self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': bdms}
                           )['server']
        self.assertEqual(
            [('image', 0, None, 'root'), ('blank', -1, 1, 'scratch'),
             ('blank', None, 256, None)],
            [(r['source'], r['boot_index'], r['size'], r['tag'])
             for r in self.bdm_rows(server['id'])])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')

    def test_blank_disks_reach_the_driver_with_novas_device_names(self):
        bdms = [_image_bdm(),
                {'source_type': 'blank', 'destination_type': 'local', 'boot_index': -1,
                 'volume_size': 1},
                {'source_type': 'blank', 'destination_type': 'local', 'boot_index': -1,
                 'device_name': '/dev/vdb', 'guest_format': 'ext3'},
                {'source_type': 'blank', 'destination_type': 'local',
                 'guest_format': 'swap', 'volume_size': 256}]
        self.useFixture(fixtures.MockPatchObject(cloud.CONF, 'max_local_block_devices', 4))
        # The size-less ephemeral takes the flavor's (2 GB): 1 + 2 > 2 is refused.
        body = self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': bdms},
                         status=400)
        self.assertIn('Ephemeral disks requested are larger', self.fault(body))
        bdms[2]['volume_size'] = 1
        server = self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': bdms}
                           )['server']
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        disks = self.cloud.agents[0].driver.disks[server['id']]
        self.assertEqual(
            [('disk', 'vda', 1024, None), ('disk.eph0', 'vdc', 1024, None),
             ('disk.eph1', 'vdb', 1024, 'ext3'), ('disk.swap', 'vdd', 256, 'swap')],
            [(d.file, d.dev, d.size_mb, d.guest_format) for d in disks])
        # Without a size, an ephemeral disk is the flavor's size (Nova's _volume_size).
        server = self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': [
            _image_bdm(), {'source_type': 'blank', 'destination_type': 'local'}]}
                           )['server']
        self.assertEqual([None, 2, 512], [r['size'] for r in self.bdm_rows(server['id'])])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual([('disk', 1024), ('disk.eph0', 2048), ('disk.swap', 512)],
                         [(d.file, d.size_mb) for d in
                          self.cloud.agents[0].driver.disks[server['id']]])
        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=self.token)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        self.assertNotIn(server['id'], self.cloud.agents[0].driver.disks)

    def test_boot_from_the_image_mapping_alone(self):
        # imageRef given as "" (so an image->local mapping is allowed): the mapping's
        # image is the one booted.
        server = self.post({'imageRef': '', 'block_device_mapping_v2': [_image_bdm()]}
                           )['server']
        active = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(cloud.IMAGE_ID, active['image']['id'])

    def test_volume_service_needed(self):
        for bdm, what in (
                (_image_bdm(destination_type='volume', volume_size=1),
                 "destination_type 'volume'"),
                ({'uuid': cloud.IMAGE_ID, 'source_type': 'volume', 'boot_index': 0},
                 "source_type 'volume'"),
                ({'uuid': cloud.IMAGE_ID, 'source_type': 'snapshot',
                  'destination_type': 'volume', 'boot_index': 0},
                 "source_type 'snapshot'"),
                ({'source_type': 'blank', 'destination_type': 'volume', 'volume_size': 1,
                  'boot_index': -1}, "destination_type 'volume'")):
            body = self.post({'block_device_mapping_v2': [_image_bdm(), bdm]
                              if bdm.get('boot_index') != 0 else [bdm]}, status=400)
            self.assertEqual(
                f'Block Device Mapping is Invalid: {what} needs a volume service, which '
                "this deployment does not have: only 'image' and 'blank' sources with "
                "destination_type 'local' are supported.", self.fault(body))
        body = self.post({'block_device_mapping': [{'volume_id': cloud.IMAGE_ID,
                                                    'device_name': 'vdb'}]}, status=400)
        self.assertIn('volume_id needs a volume service', self.fault(body))

    def test_nova_format_checks(self):
        invalid = 'Block Device Mapping is Invalid: '
        for bdms, message in (
                ([{'source_type': 'image', 'destination_type': 'local', 'boot_index': 0}],
                 invalid + 'Missing device UUID.'),
                ([_image_bdm(), {'source_type': 'blank', 'uuid': cloud.IMAGE_ID,
                                 'destination_type': 'local'}],
                 invalid + 'Invalid device UUID.'),
                ([_image_bdm(boot_index=1)], invalid + 'Mapping image to local is not '
                 'supported.'),
                ([_image_bdm(volume_type='fast')],
                 invalid + 'Specifying a volume_type with destination_type=local is not '
                 'supported.'),
                ([_image_bdm(), _image_bdm()],
                 invalid + 'Boot sequence for the instance and image/block device mapping '
                 'combination is not valid.'),
                ([{'source_type': 'blank', 'destination_type': 'local',
                   'volume_size': 1}],
                 invalid + 'Boot sequence for the instance and image/block device mapping '
                 'combination is not valid.'),
                ([_image_bdm(uuid='6b5c4b2a-0000-4000-8000-0000000000ff')],
                 invalid + 'failed to get image 6b5c4b2a-0000-4000-8000-0000000000ff.'),
                ([_image_bdm(disk_bus='floppy-bus')], 'Block Device Mapping is Invalid.'),
                ([_image_bdm(), {'source_type': 'blank', 'destination_type': 'local',
                                 'volume_size': 1}],
                 'Ephemeral disks requested are larger than the instance type allows. If '
                 'no size is given in one block device mapping, flavor ephemeral size '
                 'will be used.'),
                ([_image_bdm()] + [{'source_type': 'blank', 'destination_type': 'local',
                                    'guest_format': 'swap', 'volume_size': 1}] * 2,
                 invalid + 'More than one swap drive requested.'),
                ([_image_bdm(), {'source_type': 'blank', 'destination_type': 'local',
                                 'guest_format': 'swap', 'volume_size': 1}],
                 'Swap drive requested is larger than instance type allows.')):
            body = self.post({'block_device_mapping_v2': bdms}, version='2.67', status=400)
            self.assertEqual(message, self.fault(body), bdms)

    def test_image_mapping_needs_image_ref_key(self):
        body = self.post({'imageRef': None, 'block_device_mapping_v2': [_image_bdm()]},
                         status=400)
        self.assertEqual('Block Device Mapping is Invalid: Mapping image to local is not '
                         'supported.', self.fault(body))

    def test_both_syntaxes(self):
        body = self.post({'block_device_mapping': [{'no_device': True}],
                          'block_device_mapping_v2': [_image_bdm()]}, status=400)
        self.assertEqual('Using different block_device_mapping syntaxes is not allowed in '
                         'the same request.', self.fault(body))

    def test_max_local_block_devices(self):
        three = [_image_bdm(),
                 {'source_type': 'blank', 'destination_type': 'local', 'volume_size': 1},
                 {'source_type': 'blank', 'destination_type': 'local',
                  'guest_format': 'swap', 'volume_size': 1}]
        self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': three})
        self.useFixture(fixtures.MockPatchObject(cloud.CONF, 'max_local_block_devices', 2))
        body = self.post({'flavorRef': EPHEMERAL_FLAVOR, 'block_device_mapping_v2': three},
                         status=400)
        self.assertEqual('Block Device Mapping is Invalid: You specified more local devices '
                         'than the limit allows', self.fault(body))
        # The flavor's own disks count too.
        self.post({'flavorRef': EPHEMERAL_FLAVOR}, status=400)
        self.post({})

    def test_schema_per_microversion(self):
        for version, field, status in (('2.32', 'tag', 202), ('2.33', 'tag', 400),
                                       ('2.41', 'tag', 400), ('2.42', 'tag', 202),
                                       ('2.66', 'volume_type', 400),
                                       ('2.67', 'volume_type', 202)):
            value = None if field == 'volume_type' else 'disk1'
            self.post({'block_device_mapping_v2': [_image_bdm(**{field: value})]},
                      version=version, status=status)
        body = self.post({'block_device_mapping_v2': [_image_bdm(tag='t')]}, version='2.33',
                         status=400)
        self.assertTrue(self.fault(body).endswith(
            "Additional properties are not allowed ('tag' was unexpected) (available from "
            'microversion 2.42)'), self.fault(body))
        body = self.post({'block_device_mapping_v2': [
            _image_bdm(), {'source_type': 'blank', 'destination_type': 'local',
                           'boot_index': '99999999999'}]}, status=400)
        self.assertEqual('Block Device Mapping is Invalid: Boot index is invalid.',
                         self.fault(body))
        for bad in ({'source_type': 'tape'}, {'boot_index': 'first'},
                    {'volume_size': 0}, {'device_name': 'vd b'}, {'unknown': 1}):
            self.post({'block_device_mapping_v2': [_image_bdm(**bad)]}, status=400)

    def test_attach_volume_policy(self):
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        enforcer.set_rules(oslo_policy.Rules.from_dict(
            {'os_compute_api:servers:create:attach_volume': '!'}), overwrite=False,
            use_conf=False)
        self.addCleanup(policy.reset)
        body = self.post({'block_device_mapping_v2': [_image_bdm()]}, status=403)
        self.assertEqual("Policy doesn't allow os_compute_api:servers:create:attach_volume "
                         'to be performed.', self.fault(body))
        self.post({})


class TestPersonality(CreateTestCase):

    def setUp(self):
        super().setUp()
        # What the conductor sends each build, as the agent receives it.
        self.builds = {}
        driver = self.cloud.agents[0].driver
        original = driver.spawn

        def recording_spawn(build):
            self.builds[build.uuid] = build
            return original(build)
        self.useFixture(fixtures.MockPatchObject(driver, 'spawn', recording_spawn))

    def test_files_reach_the_build(self):
        files = [{'path': '/etc/banner.txt', 'contents': CONTENTS},
                 {'path': '/root/.ssh/x', 'contents': 'aGk='}]
        server = self.post({'personality': files}, version='2.56')['server']
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(files, self.builds[server['id']].files)
        plain = self.post({}, version='2.56')['server']
        self.cloud.wait_for_status(plain['id'], 'ACTIVE')
        self.assertEqual([], self.builds[plain['id']].files)

    def test_gone_from_2_57(self):
        body = self.post({'personality': []}, version='2.57', status=400)
        self.assertTrue(self.fault(body).endswith(
            "('personality' was unexpected) (available up to microversion 2.56)"))

    def test_quota_limits(self):
        project = self.token.split(':')[1]
        resp = self.cloud.request('PUT', f'/v2.1/os-quota-sets/{project}', token=ADMIN,
                                  json={'quota_set': {'injected_files': 2,
                                                      'injected_file_path_bytes': 10,
                                                      'injected_file_content_bytes': 8}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        for files, message in (
                ([{'path': '/a', 'contents': 'aGk='}] * 3, 'Personality file limit exceeded'),
                ([{'path': '/a/very/long', 'contents': 'aGk='}],
                 'Personality file path exceeds maximum 10'),
                ([{'path': '/a', 'contents': 'aGVsbG8gd29ybGQ='}],
                 'Personality file content exceeds maximum 8')):
            body = self.post({'personality': files}, version='2.1', status=403)
            self.assertEqual(message, self.fault(body))
        self.post({'personality': [{'path': '/abcdefghi', 'contents': 'aGVsbG8h'}] * 2},
                  version='2.1')

    def test_format(self):
        for item in ({'path': '/a'}, {'contents': 'aGk='}):
            body = self.post({'personality': [item]}, version='2.1', status=400)
            self.assertIn('Bad personality format: missing', self.fault(body))
        for item in ({'path': '/a', 'contents': 'not base64!'},
                     {'path': '/a', 'contents': 'aGk=', 'mode': '0644'}):
            self.post({'personality': [item]}, version='2.1', status=400)


class TestSecurityGroupsAndDiskConfig(CreateTestCase):

    def test_security_groups(self):
        request = [{'name': 'default'}, {'name': 'default'}]
        server = self.post({'security_groups': request})['server']
        self.assertEqual(request, server['security_groups'])
        shown = self.cloud.wait_for_status(server['id'], 'ACTIVE', token=self.token)
        self.assertEqual([{'name': 'default'}], shown['security_groups'])
        detail = self.cloud.request('GET', '/v2.1/servers/detail',
                                    token=self.token).json['servers']
        self.assertEqual([{'name': 'default'}], detail[0]['security_groups'])
        # A group the project does not have: 400, as Nova's (Neutron's words).
        body = self.post({'security_groups': [{'name': 'default'}, {'name': 'web'}]},
                         status=400)
        self.assertEqual("Unable to find security_group with name or id 'web'",
                         self.fault(body))
        # No NIC, no security groups shown (Nova reads them off the ports).
        bare = self.post({'networks': 'none'})['server']
        self.assertEqual([{'name': 'default'}], bare['security_groups'])
        self.assertNotIn('security_groups',
                         self.cloud.wait_for_status(bare['id'], 'ACTIVE', token=self.token))
        self.assertEqual([], self.post({'security_groups': []})['server']['security_groups'])
        for bad in ([{'name': ''}], [{'name': 'x', 'id': 'y'}], [{'name': ' x'}]):
            self.post({'security_groups': bad}, status=400)

    def test_disk_config_from_the_image(self):
        auto, disabled = ('a0a0a0a0-0000-4000-8000-000000000001',
                          'a0a0a0a0-0000-4000-8000-000000000002')
        for image, requested, expected in ((auto, None, 'AUTO'), (auto, 'MANUAL', 'MANUAL'),
                                           (cloud.IMAGE_ID, None, 'MANUAL'),
                                           (disabled, None, 'MANUAL'),
                                           (disabled, 'MANUAL', 'MANUAL')):
            server = self.post({'imageRef': image, 'OS-DCF:diskConfig': requested})['server']
            self.assertEqual(expected, server['OS-DCF:diskConfig'])
            shown = self.cloud.get_server(server['id'])
            self.assertEqual(expected, shown['OS-DCF:diskConfig'])
        body = self.post({'imageRef': disabled, 'OS-DCF:diskConfig': 'AUTO'}, status=400)
        self.assertEqual(f'Requested image {disabled} has automatic disk resize disabled.',
                         self.fault(body))


GiB = 1024 ** 3


class TestImageRequirements(CreateTestCase):
    """The image's minimums and size against the flavor (m1.tiny: 512 MB, 1 GB), in
    Nova's order and words (FlavorMemoryTooSmall, FlavorDiskSmallerThanImage,
    FlavorDiskSmallerThanMinDisk)."""

    def refused(self, image_id: str) -> str:
        return self.fault(self.post({'imageRef': image_id}, status=400))

    def test_min_ram(self):
        self.assertEqual("Flavor's memory is too small for requested image.",
                         self.refused(cloud.image_with(min_ram=1024)))
        # Memory first, as Nova.
        self.assertEqual("Flavor's memory is too small for requested image.",
                         self.refused(cloud.image_with(min_ram=1024, min_disk=5, size=2 * GiB)))

    def test_image_size(self):
        self.assertEqual(f"Flavor's disk is too small for requested image. Flavor disk is "
                         f"{GiB} bytes, image is {2 * GiB} bytes.",
                         self.refused(cloud.image_with(size=2 * GiB)))
        # The image's size before its min_disk, as Nova.
        self.assertEqual(f"Flavor's disk is too small for requested image. Flavor disk is "
                         f"{GiB} bytes, image is {2 * GiB} bytes.",
                         self.refused(cloud.image_with(size=2 * GiB, min_disk=5)))

    def test_min_disk(self):
        self.assertEqual("Flavor's disk is smaller than the minimum size specified in image "
                         f"metadata. Flavor disk is {GiB} bytes, minimum size is "
                         f"{5 * GiB} bytes.", self.refused(cloud.image_with(min_disk=5)))

    def test_what_fits_is_accepted(self):
        self.post({'imageRef': cloud.image_with(min_ram=512, min_disk=1, size=GiB)})


class TestMicroversionHints(CreateTestCase):

    def test_create(self):
        for version, field, value, hint in (
                ('2.18', 'description', 'd', 'available from microversion 2.19'),
                ('2.51', 'tags', ['a'], 'available from microversion 2.52'),
                ('2.62', 'trusted_image_certificates', ['c'],
                 'available from microversion 2.63'),
                ('2.73', 'host', 'compute1', 'available from microversion 2.74'),
                ('2.89', 'hostname', 'h', 'available from microversion 2.90')):
            body = self.post({field: value}, version=version, status=400)
            self.assertEqual(
                f'Invalid input for field/attribute server. Value: '
                f"{self._server_repr(version, field, value)}. Additional properties are "
                f"not allowed ('{field}' was unexpected) ({hint})", self.fault(body))
        # A property no microversion knows gets no hint.
        body = self.post({'colour': 'blue'}, status=400)
        self.assertTrue(self.fault(body).endswith("('colour' was unexpected)"))
        body = self.post({'description': 'd', 'tags': ['a']}, version='2.18', status=400)
        self.assertTrue(self.fault(body).endswith(
            "('description' is available from microversion 2.19; 'tags' is available from "
            'microversion 2.52)'), self.fault(body))

    def test_update(self):
        server = self.post({})['server']
        resp = self.cloud.request('PUT', f'/v2.1/servers/{server["id"]}', token=self.token,
                                  version='2.89', json={'server': {'hostname': 'h'}})
        self.assertEqual(400, resp.status_code)
        self.assertTrue(self.fault(resp.json).endswith(
            "('hostname' was unexpected) (available from microversion 2.90)"))

    @staticmethod
    def _server_repr(version: str, field: str, value) -> str:
        server = {'name': 'vm', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID, field: value}
        if int(version.split('.')[1]) >= 37:
            server['networks'] = 'auto'
        return repr(server)

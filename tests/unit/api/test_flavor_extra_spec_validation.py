"""Flavor extra specs validated from microversion 2.86 as Nova 34 validates them: for
every namespace Nova registers, a known key with a good value is stored, a bad value
and an unknown key are a 400 in Nova's words; before 2.86 nothing is checked."""
from __future__ import annotations

import uuid

import testtools

from kumo_api import extra_specs
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
CPU_SET = r'\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'

# namespace: (specs Nova stores, a bad value of a known key and Nova's message (None
# where the namespace's values are free text), a key Nova does not know there)
NAMESPACES = {
    'hw': ({'hw:cpu_policy': 'dedicated', 'hw:numa_cpus.0': '0-3,^2', 'hw:numa_mem.0': 512,
            'hw:mem_page_size': '2MB', 'hw:redirected_usb_ports': '15',
            'hw:ephemeral_encryption': 'True', 'hw:tpm_version': '2.0'},
           ({'hw:cpu_policy': 'sometimes'},
            "'sometimes' is not one of: dedicated, shared, mixed."),
           'hw:bogus'),
    'hw_rng': ({'hw_rng:allowed': ' YES ', 'hw_rng:rate_bytes': '0'},
               ({'hw_rng:allowed': 'perhaps'}, "'perhaps' is not a valid boolean-like value."),
               'hw_rng:rate'),
    'hw_video': ({'hw_video:ram_max_mb': 64},
                 ({'hw_video:ram_max_mb': '-1'}, "'-1' is less than the min value of '0'."),
                 'hw_video:ram'),
    'accel': ({'accel:device_profile': 'any name'}, None, 'accel:profile'),
    'aggregate_instance_extra_specs': (
        {'aggregate_instance_extra_specs:ssd': '<in> true'}, None,
        'aggregate_instance_extra_specs:'),
    'capabilities': ({'capabilities:hypervisor_type': 's== QEMU',
                      'capabilities:cpu_info:arch': 'x86_64'}, None, 'capabilities:bogus'),
    'null': ({'group_policy': 'isolate', 'hide_hypervisor_id': 'no', 'my_key': 'any'},
             ({'group_policy': 'all'}, "'all' is not one of: isolate, none."), None),
    'os': ({'os:secure_boot': 'required'},
           ({'os:secure_boot': 'optional'}, "'optional' is not one of: disabled, required."),
           'os:boot'),
    'pci_passthrough': ({'pci_passthrough:alias': 'a1:2, b:1'},
                        ({'pci_passthrough:alias': 'a1'},
                         r"'a1' is not of the format '[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'."),
                        'pci_passthrough:aliases'),
    'quota': ({'quota:cpu_quota': '-1', 'quota:disk_read_iops_sec': 100,
               'quota:vif_shares_level': 'custom'},
              ({'quota:cpu_shares': '1.5'}, "'1.5' is not a valid integer value."),
              'quota:cpu'),
    'resources': ({'resources:VCPU': '-1', 'resources_gpu1:CUSTOM_GPU': 2,
                   'resources1:NET_PACKET_RATE_KILOPACKET_PER_SEC': '10'},
                  ({'resources1:VGPU': 'two'}, "'two' is not a valid integer value."),
                  'resources:MAGIC'),
    'traits': ({'trait:HW_CPU_X86_AVX': 'required', 'trait1:CUSTOM_FOO': 'forbidden',
                'trait:COMPUTE_STATUS_DISABLED': 'forbidden'},
               ({'trait:HW_CPU_X86_AVX': 'maybe'},
                "'maybe' is not one of: required, forbidden."),
               'trait:HW_CPU_X86_MAGIC'),
    'vmware': ({'vmware:hw_version': 'vmx-13', 'vmware:storage_policy': 'gold'}, None,
               'vmware:version'),
    'unknown namespace': ({'custom:anything': 'x', 'hw_foo:bar': 'y'}, None, None),
}


class TestExtraSpecValidation(cloud.CloudTestCase):
    COMPUTES = 0

    def setUp(self):
        super().setUp()
        flavor_id = f'v-{uuid.uuid4().hex[:8]}'
        self.call('POST', '/flavors', version='2.55', json={'flavor': {
            'name': flavor_id, 'id': flavor_id, 'ram': 64, 'vcpus': 1, 'disk': 0}})
        self.base = f'/flavors/{flavor_id}/os-extra_specs'

    def call(self, method, path, version='2.86', json=None, status=200):
        resp = self.cloud.request(method, '/v2.1' + path, token=ADMIN, version=version,
                                  json=json)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def assert_refused(self, specs, detail, version='2.86'):
        body = self.call('POST', self.base, version=version, json={'extra_specs': specs},
                         status=400)
        self.assertEqual({'badRequest': {'code': 400,
                                         'message': f'Validation failed; {detail}'}}, body)

    def test_each_namespace(self):
        for namespace, (good, bad, unknown) in NAMESPACES.items():
            with self.subTest(namespace=namespace):
                self.assertEqual({'extra_specs': good}, self.call(
                    'POST', self.base, json={'extra_specs': good}))
                stored = self.call('GET', self.base)['extra_specs']
                self.assertEqual({k: str(v) for k, v in good.items()},
                                 {k: stored[k] for k in good})
                if bad is not None:
                    self.assert_refused(*bad)
                if unknown is not None:
                    self.assert_refused(
                        {unknown: '1'},
                        f"extra spec '{unknown}' does not appear to be a valid extra spec.")

    def test_value_rules(self):
        self.assert_refused({'hw:redirected_usb_ports': '16'},
                            "'16' is greater than the max value of '15'.")
        self.assert_refused({'hw:numa_nodes': ' 0'}, "'0' is less than the min value of '1'.")
        self.assert_refused({'hw:numa_cpus.1': '0-'},
                            f"'0-' is not of the format '{CPU_SET}'.")
        # JSON numbers are judged by their text, as Nova does.
        self.assert_refused({'hw:numa_nodes': 2.0}, "'2.0' is not a valid integer value.")
        self.assert_refused({'hw:mem_page_size': 'huge'},
                            "'huge' is not of the format "
                            "'(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'.")
        self.assert_refused({'hw:cpu_policy': 'Dedicated'},
                            "'Dedicated' is not one of: dedicated, shared, mixed.")

    def test_pattern_keys(self):
        # A group suffix of 65 characters makes `resources...` a namespace Nova does
        # not know, so the key passes unchecked (as in Nova).
        self.call('POST', self.base, json={'extra_specs': {
            'hw:numa_cpus.12': '0', 'capabilities:stats:a:b': 'x',
            ('resources' + 'g' * 64 + ':VCPU'): '1', ('resources' + 'g' * 65 + ':X'): 'y'}})
        for key in ('hw:numa_mem.x', 'capabilities:cpu_info:a b', 'resources:custom_gpu',
                    'resources' + 'g' * 64 + ':X', 'trait:CUSTOM_', 'traitfoo:bar'):
            with self.subTest(key=key):
                self.assert_refused(
                    {key: '1'}, f"extra spec '{key}' does not appear to be a valid extra spec.")

    def test_first_bad_spec_wins_and_nothing_is_stored(self):
        self.assert_refused({'hw:numa_nodes': '1', 'hw:bogus': 'x', 'hw:cpu_policy': 'x'},
                            "extra spec 'hw:bogus' does not appear to be a valid extra spec.")
        self.assertEqual({'extra_specs': {}}, self.call('GET', self.base))

    def test_microversion_boundary(self):
        bad = {'hw:bogus': 'x', 'hw:cpu_policy': 'sometimes', 'resources:VCPU': 'many'}
        self.call('POST', self.base, version='2.85', json={'extra_specs': bad})
        self.assertEqual(bad, self.call('GET', self.base, version='2.85')['extra_specs'])
        self.call('PUT', self.base + '/hw:cpu_policy', version='2.85',
                  json={'hw:cpu_policy': 'never'})
        self.assert_refused({'hw:bogus': 'x'},
                            "extra spec 'hw:bogus' does not appear to be a valid extra spec.")
        body = self.call('PUT', self.base + '/hw:cpu_policy', version='2.86',
                         json={'hw:cpu_policy': 'never'}, status=400)
        self.assertEqual("Validation failed; 'never' is not one of: dedicated, shared, mixed.",
                         body['badRequest']['message'])
        latest = self.cloud.request('GET', '/v2.1/', token=ADMIN).json['version']['version']
        self.assert_refused({'hw:bogus': 'x'},
                            "extra spec 'hw:bogus' does not appear to be a valid extra spec.",
                            version=latest)
        self.call('PUT', self.base + '/hw:cpu_policy', version=latest,
                  json={'hw:cpu_policy': 'mixed'})


class TestRegistry(testtools.TestCase):
    """The table itself, without HTTP: its size and the shapes of its keys."""

    def test_every_standard_trait_and_resource_class(self):
        for trait in extra_specs.placement.STANDARD_TRAITS:
            self.assertIsNone(extra_specs.problem(f'trait:{trait}', 'required'), trait)
            self.assertIsNotNone(extra_specs.problem(f'trait:{trait}', 'yes'), trait)
        for rc in extra_specs.placement.STANDARD_RESOURCE_CLASSES:
            self.assertIsNone(extra_specs.problem(f'resources2:{rc}', '1'), rc)
        self.assertEqual(377, len(set(extra_specs.placement.STANDARD_TRAITS)))
        self.assertEqual(21, len(set(extra_specs.placement.STANDARD_RESOURCE_CLASSES)))

    def test_numa_key_dot_is_a_regex_dot(self):
        # Nova's template `hw:numa_cpus.{num}` is a regex: any character stands for the dot.
        self.assertIsNone(extra_specs.problem('hw:numa_cpus_0', '0'))
        self.assertIsNone(extra_specs.problem('hw:numa_mem-0', 64))
